"""House rules that code review alone would let slip: arrows run one way, packages say their role.

Each rule is a function from a source tree to its violations, run on this repository (no violation
allowed) and on a small tree with one planted violation per rule (each must be caught), so a rule
that silently stops checking fails here too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("bot", "handlers")
DOMAIN = [
    "bot/incidents",
    "bot/escalation",
    "bot/postmortem",
    "bot/audit",
    "bot/config",
    "bot/db",
    "bot/remediation",
    "bot/drills",
    "bot/rehearse",
    "bot/reports",
    "bot/security",
    "bot/response",
]
FORBIDDEN = ("slack_sdk", "slack_bolt", "bot.slack", "handlers", "devkit")
MAX_MODULE_LINES = 500
MAX_HANDLER_LINES = 400


# ------------------------------------------------------------------------------------------ the tree
def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every production module under `root`."""
    found: dict[str, Path] = {}
    for top in PRODUCTION:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, function bodies included, except `if TYPE_CHECKING:` blocks (never executed)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(root: Path, module: str, path: Path, known: set[str]) -> Iterator[tuple[str, str | None]]:
    """(imported module, imported name or None) for every runtime import in one file."""
    is_package = path.name == "__init__.py"
    for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node, is_package)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:  # `from bot.escalation import engine`: the module itself
                    yield submodule, None
                else:
                    yield source, alias.name


def _package(module: str, known: dict[str, Path]) -> str:
    path = known.get(module)
    if path is not None and path.name == "__init__.py":
        return module
    return module.rpartition(".")[0]


# ------------------------------------------------------------------------------------------ the rules
def big_modules(root: Path) -> list[str]:
    big = []
    for path in _modules(root).values():
        limit = MAX_HANDLER_LINES if path.relative_to(root).parts[0] == "handlers" else MAX_MODULE_LINES
        if (n := len(path.read_text().splitlines())) > limit:
            big.append(f"{path.relative_to(root)}: {n} lines (limit {limit})")
    return big


def private_names_across_packages(root: Path) -> list[str]:
    """`from a.b import _x`, or `b._x` on an imported module, where a.b is not the importer's package."""
    known = _modules(root)
    offenders = []
    for module, path in known.items():
        own = _package(module, known)
        aliases: dict[str, str] = {}  # local name -> module it is bound to
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known:
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, node, path.name == "__init__.py")
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    if target in known:
                        aliases[alias.asname or alias.name] = target
                    elif _private(alias.name) and source in known and _package(source, known) != own:
                        offenders.append(
                            f"{path.relative_to(root)}:{node.lineno} imports {source}.{alias.name}"
                        )
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and (target := aliases.get(node.value.id)) is not None
                and _package(target, known) != own
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno} touches {target}.{node.attr}")
    return offenders


def _private(name: str) -> bool:
    # `_` alone is gettext's public name (bot.i18n._), not a private helper.
    return name.startswith("_") and not name.startswith("__") and name != "_"


def import_cycles(root: Path) -> list[str]:
    """Strongly connected groups of the module graph (function-level imports included)."""
    known = _modules(root)
    graph = {
        module: sorted({target for target, _ in _imports(root, module, path, set(known)) if target in known})
        for module, path in known.items()
    }
    cycles = []
    for group in _strongly_connected(graph):
        if len(group) > 1 or group[0] in graph[group[0]]:
            cycles.append(" <-> ".join(sorted(group)))
    return cycles


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is a few hundred modules deep at most)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def string_wiring(root: Path) -> list[str]:
    """importlib / __import__ / swallowed ImportError: imports hidden from readers and tools."""
    offenders = []
    for path in _modules(root).values():
        where = path.relative_to(root)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                )
                if any(n == "importlib" or n.startswith("importlib.") for n in names):
                    offenders.append(f"{where}:{node.lineno} imports importlib")
            elif isinstance(node, ast.Name) and node.id == "__import__":
                offenders.append(f"{where}:{node.lineno} calls __import__")
            elif isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                if any(
                    isinstance(c, ast.Name) and c.id in ("ImportError", "ModuleNotFoundError") for c in caught
                ):
                    offenders.append(f"{where}:{node.lineno} catches an ImportError")
    return offenders


def domain_imports_of_slack(root: Path, package: str) -> list[str]:
    offenders = []
    known = _modules(root)
    for module, path in known.items():
        if not (path.is_relative_to(root / package)):
            continue
        for name, _ in _imports(root, module, path, set(known)):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.relative_to(root)} imports {name}")
    return sorted(set(offenders))


# ------------------------------------------------------------------------------- on this repository
def test_no_production_module_is_too_long() -> None:
    assert big_modules(ROOT) == []


def test_no_private_name_is_used_across_packages() -> None:
    assert private_names_across_packages(ROOT) == []


def test_no_import_cycles() -> None:
    assert import_cycles(ROOT) == []


def test_no_string_wiring() -> None:
    assert string_wiring(ROOT) == []


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_never_imports_slack_or_handlers(package: str) -> None:
    assert domain_imports_of_slack(ROOT, package) == []


def test_every_package_opens_with_a_docstring() -> None:
    missing = []
    for init in sorted([*ROOT.glob("bot/**/__init__.py"), *ROOT.glob("handlers/__init__.py")]):
        if not ast.get_docstring(ast.parse(init.read_text())):
            missing.append(str(init.relative_to(ROOT)))
    assert missing == []


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


# ------------------------------------------------------------------------ on planted violations
CLEAN = {
    "bot/__init__.py": '"""Bot."""\n',
    "bot/incidents/__init__.py": '"""Incidents."""\n',
    "bot/incidents/service.py": "def _helper() -> None: ...\n",
    "bot/incidents/models.py": "from bot.incidents.service import _helper  # same package: allowed\n",
    "bot/slack/__init__.py": '"""Slack."""\n',
    "bot/slack/gateway.py": "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\n"
    "import slack_sdk\n\nif TYPE_CHECKING:\n    from handlers import listeners\n",
    "handlers/__init__.py": '"""Handlers."""\n\nfrom handlers import listeners\n',
    "handlers/listeners.py": "from bot.slack import gateway\n\n\ndef run() -> None:\n    gateway.send()\n",
}
PLANTED = {
    "big": ("bot/incidents/long.py", "x = 1\n" * (MAX_MODULE_LINES + 1)),
    "big_handler": ("handlers/long.py", "x = 1\n" * (MAX_HANDLER_LINES + 1)),
    "private_import": ("bot/slack/use.py", "from bot.incidents.service import _helper\n"),
    "private_touch": (
        "handlers/touch.py",
        "from bot.incidents import service\n\n\ndef f() -> None:\n    service._helper()\n",
    ),
    # Only a function-level import closes this circle (the TYPE_CHECKING one does not count).
    "cycle": ("bot/slack/gateway.py", "\n\ndef later() -> None:\n    from handlers import listeners\n"),
    "importlib": ("bot/slack/wire.py", "import importlib\n\nimportlib.import_module('handlers.x')\n"),
    "swallowed": (
        "handlers/opt.py",
        "try:\n    import yaml\nexcept (OSError, ImportError):\n    yaml = None\n",
    ),
    "dunder_import": ("handlers/dyn.py", "mod = __import__('handlers.listeners')\n"),
    "slack_in_domain": (
        "bot/incidents/flow.py",
        "def f() -> None:\n    from bot.slack.gateway import send\n",
    ),
}


def _tree(tmp_path: Path, extra: tuple[str, str] | None = None) -> Path:
    files = dict(CLEAN)
    if extra is not None:
        path, text = extra
        if path in files:
            files[path] += text
        else:
            files[path] = text
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def _all_rules(root: Path) -> dict[str, list[str]]:
    return {
        "big_modules": big_modules(root),
        "private_names_across_packages": private_names_across_packages(root),
        "import_cycles": import_cycles(root),
        "string_wiring": string_wiring(root),
        "domain_imports_of_slack": domain_imports_of_slack(root, "bot/incidents"),
    }


def test_a_clean_tree_passes_every_rule(tmp_path: Path) -> None:
    assert _all_rules(_tree(tmp_path)) == {name: [] for name in _all_rules(_tree(tmp_path))}


@pytest.mark.parametrize(
    ("planted", "rule", "expected"),
    [
        ("big", "big_modules", ["bot/incidents/long.py: 501 lines (limit 500)"]),
        ("big_handler", "big_modules", ["handlers/long.py: 401 lines (limit 400)"]),
        (
            "private_import",
            "private_names_across_packages",
            ["bot/slack/use.py:1 imports bot.incidents.service._helper"],
        ),
        (
            "private_touch",
            "private_names_across_packages",
            ["handlers/touch.py:5 touches bot.incidents.service._helper"],
        ),
        ("cycle", "import_cycles", ["bot.slack.gateway <-> handlers.listeners"]),
        ("importlib", "string_wiring", ["bot/slack/wire.py:1 imports importlib"]),
        ("swallowed", "string_wiring", ["handlers/opt.py:3 catches an ImportError"]),
        ("dunder_import", "string_wiring", ["handlers/dyn.py:1 calls __import__"]),
        ("slack_in_domain", "domain_imports_of_slack", ["bot/incidents/flow.py imports bot.slack.gateway"]),
    ],
)
def test_each_rule_catches_its_planted_violation(
    tmp_path: Path, planted: str, rule: str, expected: list[str]
) -> None:
    found = _all_rules(_tree(tmp_path, PLANTED[planted]))
    assert found[rule] == expected
    # ... and only that rule fires: a planted violation is not mistaken for another.
    assert {name: hits for name, hits in found.items() if hits} == {rule: expected}
