"""`_` is gettext: a function that also uses `_` as a throwaway name (`host, _, rest = …`) makes it a local
there, and every `_("…")` in that function fails at run time ("'int' object is not callable") — which
a redis remediation did, only once it ran in earnest. Caught here for the whole source tree."""

from __future__ import annotations

import ast

from bot.i18n.extract import ROOT

SOURCES = ("bot", "handlers", "devkit")


def _clashes(tree: ast.AST) -> list[str]:
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        binds = [
            n.lineno
            for n in ast.walk(fn)
            if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
        ]
        binds += [a.lineno for a in ast.walk(fn.args) if isinstance(a, ast.arg) and a.arg == "_"]
        calls = [
            n.lineno
            for n in ast.walk(fn)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
        ]
        if binds and calls:
            found.append(f"{getattr(fn, 'name', 'lambda')}: binds _ at {binds}, calls _() at {calls}")
    return found


def test_no_function_rebinds_gettext_where_it_translates() -> None:
    wrong = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            wrong += [f"{path.relative_to(ROOT)}: {c}" for c in _clashes(ast.parse(path.read_text()))]
    assert not wrong, "rename the throwaway name (e.g. `_rest`):\n" + "\n".join(wrong)


def test_the_check_finds_a_planted_clash() -> None:
    planted = "def f(x):\n    a, _, b = x.partition(':')\n    return _('{a}', a=a)\n"
    fine = "def g(x):\n    a, _rest = x\n    return _('{a}', a=a)\n"
    assert _clashes(ast.parse(planted)) and not _clashes(ast.parse(fine))
