"""House rules that code review alone would let slip: arrows run one way, packages say their role."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = [
    "bot/incidents",
    "bot/escalation",
    "bot/postmortem",
    "bot/audit",
    "bot/config",
    "bot/db",
    "bot/remediation",
]
FORBIDDEN = ("slack_sdk", "slack_bolt", "bot.slack", "handlers", "bot.slack_emulator")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_never_imports_slack_or_handlers(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_every_package_opens_with_a_docstring() -> None:
    missing = []
    for init in sorted([*ROOT.glob("bot/**/__init__.py"), *ROOT.glob("handlers/__init__.py")]):
        if not ast.get_docstring(ast.parse(init.read_text())):
            missing.append(str(init.relative_to(ROOT)))
    assert missing == []


def test_handler_files_stay_small() -> None:
    big = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in sorted(ROOT.glob("handlers/*.py"))
        if (n := len(p.read_text().splitlines())) > 400
    ]
    assert big == []


def test_no_shell_from_python() -> None:
    offenders = []
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "shell"
                and getattr(node.value, "value", False) is True
            ):
                offenders.append(str(path.relative_to(ROOT)))
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "system"
                and getattr(node.value, "id", "") == "os"
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
