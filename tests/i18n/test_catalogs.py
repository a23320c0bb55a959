"""Every message the code uses has its Chinese translation, with the same placeholders, and is
extractable (a literal, not an f-string built before translation)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import N_, _, language_of_locale, ngettext, set_default_language, use_language
from bot.i18n.catalog import LOCALE_DIR, catalog_files
from bot.i18n.extract import ROOT, SOURCES, placeholders, uses


def _catalog_entries() -> list[tuple[Path, str, str]]:
    entries = []
    for path in catalog_files("zh"):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                if not message.id:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for msgid in ids:
                    entries.append((path, msgid, strings[0] if message.fuzzy is False else ""))
    return entries


def test_every_message_the_code_uses_has_a_chinese_translation() -> None:
    translated = {msgid for _path, msgid, string in _catalog_entries() if string}
    gaps = sorted(
        {f"{u.path.relative_to(ROOT)}:{u.line}: {u.msgid!r}" for u in uses() if u.msgid not in translated}
    )
    assert not gaps, (
        f"{len(gaps)} messages without zh (run `python -m bot.i18n sync`, fill in msgstr):\n"
        + "\n".join(gaps[:60])
    )


def test_placeholders_are_the_same_in_both_languages() -> None:
    wrong = [
        f"{path.name}: {msgid!r} -> {string!r}"
        for path, msgid, string in _catalog_entries()
        if string and placeholders(msgid) != placeholders(string)
    ]
    assert not wrong, "\n".join(wrong)


def test_one_message_has_one_translation_across_areas() -> None:
    seen: dict[str, tuple[Path, str]] = {}
    clashes = []
    for path, msgid, string in _catalog_entries():
        if msgid in seen and string and seen[msgid][1] and seen[msgid][1] != string:
            clashes.append(f"{msgid!r}: {seen[msgid][0].name}={seen[msgid][1]!r} {path.name}={string!r}")
        seen.setdefault(msgid, (path, string))
    assert not clashes, "\n".join(clashes)


def _bad_calls(tree: ast.AST) -> list[int]:
    """Lines where `_()`/`gettext()` gets an f-string, a concatenation or a `%`/.format built text."""
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in {"_", "gettext", "ngettext", "N_"} or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.JoinedStr | ast.BinOp) or (
            isinstance(first, ast.Call)
            and isinstance(first.func, ast.Attribute)
            and first.func.attr == "format"
        ):
            bad.append(node.lineno)
    return bad


def test_no_message_is_built_before_it_is_translated() -> None:
    wrong = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            wrong += [f"{path.relative_to(ROOT)}:{line}" for line in _bad_calls(ast.parse(path.read_text()))]
    assert not wrong, "pass a literal and the values as keywords: _('{n} pods', n=n)\n" + "\n".join(wrong)


def test_the_checks_catch_a_planted_fault(tmp_path: Path) -> None:
    assert _bad_calls(ast.parse("_(f'x {y}')\n_('a' + b)\n_('{a}'.format(a=1))\n_('fine {a}', a=1)")) == [
        1,
        2,
        3,
    ]
    assert placeholders("{ref} by {who}") != placeholders("{ref} 由 {name}")
    assert placeholders("{count:,} pods ({ratio:.0%})") == {"count", "ratio"}
    assert placeholders("{{literal}} {n}") == {"n"}


def test_lookup_formats_and_falls_back() -> None:
    with use_language("en"):
        assert _("Severity {level}", level="P1") == "Severity P1"
        assert ngettext("{n} page", "{n} pages", 2) == "2 pages"
        assert _("no values {kept}") == "no values {kept}"
    with use_language("zh"):
        assert _("A message nobody translated {x}", x=1) == "A message nobody translated 1"
    assert N_("marked") == "marked"


def test_language_in_force() -> None:
    try:
        set_default_language("zh")
        with use_language("en"):
            from bot.i18n import current_language

            assert current_language() == "en"
        assert current_language() == "zh"
    finally:
        set_default_language("en")
    with pytest.raises(ValueError, match="use one of en, zh"):
        set_default_language("fr")


@pytest.mark.parametrize(
    ("locale", "expected"), [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("ja-JP", None), (None, None)]
)
def test_slack_locale_maps_to_a_language(locale: str | None, expected: str | None) -> None:
    assert language_of_locale(locale) == expected


def test_catalogs_live_where_the_package_ships_them() -> None:
    assert LOCALE_DIR.is_relative_to(ROOT / "bot")
