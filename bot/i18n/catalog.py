"""The catalogs in memory and the language in force: a process default (policy `language`) and a
per-context override (a person's Slack locale, `--language` on the CLI, a test)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_default = DEFAULT_LANGUAGE
_default_lock = threading.Lock()
_override: ContextVar[str | None] = ContextVar("warroom_language", default=None)


def set_default_language(language: str) -> None:
    """The workspace's language (policy `language`), for everything no person's locale overrides."""
    global _default
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}: use one of {', '.join(LANGUAGES)}.")
    with _default_lock:
        _default = language


def default_language() -> str:
    return _default


def current_language() -> str:
    return _override.get() or _default


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Render in `language` inside the block (None keeps what is in force)."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}: use one of {', '.join(LANGUAGES)}.")
    token = _override.set(language or current_language())
    try:
        yield current_language()
    finally:
        _override.reset(token)


def language_of_locale(locale: str | None) -> str | None:
    """Slack's `users.info` locale (`zh-CN`, `zh-TW`, `en-US`, `ja-JP`) -> one of ours, or None."""
    if not locale:
        return None
    prefix = locale.replace("_", "-").split("-", 1)[0].lower()
    return prefix if prefix in LANGUAGES else None


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@cache
def _messages(language: str) -> dict[str, str]:
    """msgid -> msgstr over every area's .po; untranslated and fuzzy entries fall back to English."""
    found: dict[str, str] = {}
    for path in catalog_files(language):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):  # plural: Chinese has one form, keyed by the singular
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if strings and strings[0]:
                    found[message.id[0]] = strings[0]
                    found[message.id[1]] = strings[-1]
            elif message.string:
                found[message.id] = message.string
    return found


def _format(text: str, values: dict[str, object]) -> str:
    # Only format when values are given, so a literal brace in a plain message stays as written.
    return text.format(**values) if values else text


def gettext(message: str, /, **values: object) -> str:
    """`message` in the language in force, then `str.format(**values)`."""
    language = current_language()
    if language != DEFAULT_LANGUAGE:
        message = _messages(language).get(message, message)
    return _format(message, values)


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """Singular or plural by `n` (English), the one Chinese form otherwise; `{n}` is filled in."""
    chosen = singular if n == 1 else plural
    language = current_language()
    if language != DEFAULT_LANGUAGE:
        chosen = _messages(language).get(chosen, chosen)
    return _format(chosen, {"n": n, **values})


def N_(message: str) -> str:
    """Mark a constant for the catalog; translate it where it is rendered: `_(CONSTANT)`."""
    return message


def word_for(words: Mapping[str, str], key: str) -> str:
    """A stored key (a status, a reason code) in the language in force, through its table of
    `N_` msgids; a key the table does not know is shown as it is."""
    return gettext(words[key]) if key in words else key


_ = gettext
