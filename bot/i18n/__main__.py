"""`python -m bot.i18n sync|missing|fill`: keep the zh catalogs in step with the code.

sync adds what the code uses to its area's .po; missing lists what has no msgstr yet;
fill < {"msgid": "msgstr", ...} writes translations wherever their msgid lives."""

from __future__ import annotations

import json
import sys
from collections import defaultdict

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n.catalog import LOCALE_DIR
from bot.i18n.extract import Use, uses


def _read(path) -> Catalog:
    if not path.exists():
        return Catalog(locale="zh", project="warroom", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale="zh")


def _write(path, catalog: Catalog) -> None:
    catalog.fuzzy = False
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=False)


def _known() -> dict[str, str]:
    known: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / "zh" / "LC_MESSAGES").glob("*.po")):
        for message in _read(path):
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if key:
                string = message.string[0] if isinstance(message.string, tuple) else message.string
                known.setdefault(key, string or "")
    return known


def sync() -> int:
    """Add each message the code uses and no .po holds to its area's .po, with an empty msgstr."""
    known = _known()
    new: dict[str, list[Use]] = defaultdict(list)
    seen: set[str] = set()
    for use in uses():
        if use.msgid in known or use.msgid in seen:
            continue
        seen.add(use.msgid)
        new[use.area].append(use)
    directory = LOCALE_DIR / "zh" / "LC_MESSAGES"
    directory.mkdir(parents=True, exist_ok=True)
    for area, area_uses in sorted(new.items()):
        path = directory / f"{area}.po"
        catalog = _read(path)
        for use in area_uses:
            msgid = (use.msgid, use.plural) if use.plural else use.msgid
            string = ("",) if use.plural else ""
            catalog.add(
                msgid, string, locations=[(str(use.path.relative_to(LOCALE_DIR.parents[2])), use.line)]
            )
        _write(path, catalog)
        print(f"{path.relative_to(LOCALE_DIR.parents[2])}: {len(area_uses)} new")
    return 0


def missing() -> int:
    """List messages without a Chinese translation; exit 1 when there are any."""
    known = _known()
    gaps = [use for use in uses() if not known.get(use.msgid)]
    for use in gaps:
        print(f"{use.path.relative_to(LOCALE_DIR.parents[2])}:{use.line}: {use.msgid!r}")
    print(f"{len(gaps)} untranslated", file=sys.stderr)
    return 1 if gaps else 0


def fill() -> int:
    """Read a JSON object {msgid: msgstr} on stdin and write each into the .po that holds the msgid."""
    wanted: dict[str, str] = json.load(sys.stdin)
    done: set[str] = set()
    for path in sorted((LOCALE_DIR / "zh" / "LC_MESSAGES").glob("*.po")):
        catalog = _read(path)
        changed = False
        for message in catalog:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if key in wanted:
                message.string = (wanted[key],) if isinstance(message.id, tuple) else wanted[key]
                message.flags.discard("fuzzy")
                done.add(key)
                changed = True
        if changed:
            _write(path, catalog)
    unknown = sorted(set(wanted) - done)
    for msgid in unknown:
        print(f"not in any catalog (run sync first): {msgid!r}", file=sys.stderr)
    print(f"{len(done)} translations written", file=sys.stderr)
    return 1 if unknown else 0


def main(argv: list[str]) -> int:
    commands = {"sync": sync, "missing": missing, "fill": fill}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m bot.i18n sync|missing|fill < translations.json", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
