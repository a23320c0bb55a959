"""Which messages the code uses, read from the source the way gettext tools do (Babel's extractors),
and which area's .po each belongs in."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_file

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "handlers", "devkit")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})")


@dataclass(frozen=True)
class Use:
    msgid: str
    plural: str | None
    path: Path
    line: int

    @property
    def area(self) -> str:
        return area_of(self.path)


def area_of(path: Path) -> str:
    """`bot/diagnostics/k8s/pods.py` -> diagnostics; `bot/doctor.py` -> core; `handlers/x.py` -> handlers."""
    parts = path.resolve().relative_to(ROOT).parts
    if parts[0] == "bot":
        return parts[1] if len(parts) > 2 else "core"
    return {"handlers": "handlers", "devkit": "console"}.get(parts[0], parts[0])


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for top in SOURCES:
        found += sorted((root / top).rglob("*.py"))
        found += sorted((root / top).rglob("*.j2"))
    return [path for path in found if ".venv" not in path.parts and "tests" not in path.parts]


def uses(root: Path = ROOT) -> list[Use]:
    """Every translatable message in the source tree, with where it is used."""
    found: list[Use] = []
    for path in _files(root):
        if path.suffix == ".j2":
            method, options = "jinja2.ext:babel_extract", {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
        else:
            method, options = "python", {}
        # Babel warns of an f-string anywhere in a call's arguments, placeholder values included
        # (`ref=f"INC-{n}"`), which are fine; tests/i18n fails on an f-string *message* itself.
        with contextlib.redirect_stderr(io.StringIO()):
            extracted = list(
                extract_from_file(
                    method, str(path), keywords=KEYWORDS, options=options, strip_comment_tags=True
                )
            )
        for line, message, _comments, _context in extracted:
            if isinstance(message, tuple):
                if message[0]:
                    found.append(Use(message[0], message[1] if len(message) > 1 else None, path, line))
            elif message:
                found.append(Use(message, None, path, line))
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))
