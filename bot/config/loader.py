"""Reads the policy file and turns validation errors into one message: file, key path, line, problem.

A policy file is trusted configuration, but a careless one must still fail in a second with its
name on it: the YAML is composed into nodes first and measured — aliases counted as what they
expand to, nesting depth bounded — before any Python object is built from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.policy import Policy
from bot.i18n import LANGUAGES, _, ngettext, use_language


class PolicyError(Exception):
    """A policy file that cannot be used. `problems` holds (key path, line or None, message).

    `kinds` says what each problem is ("yaml", "unknown_key", "unreadable", "invalid") so callers
    such as `warroom doctor` can suggest a fix without parsing the (translated) message; `language`
    is the file's own `language:` when it could be read, and the message is written in it."""

    def __init__(
        self,
        source: str,
        problems: list[tuple[str, int | None, str]],
        kinds: list[str] | None = None,
        language: str | None = None,
    ):
        self.source = source
        self.problems = problems
        self.kinds = kinds or ["invalid"] * len(problems)
        self.language = language
        with use_language(language):
            lines = [
                ngettext(
                    "{source}: {n} problem in the policy file",
                    "{source}: {n} problems in the policy file",
                    len(problems),
                    source=source,
                )
            ]
            for path, line, message in problems:
                where = _("{key} (line {line})", key=path, line=line) if line else path
                lines.append(_("  - {where}: {problem}", where=where, problem=message))
        super().__init__("\n".join(lines))


MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000  # after alias expansion; a big real policy has a few thousand
MAX_DEPTH = 64


def _too_big(root: yaml.Node) -> str | None:
    """Why the document is too big to build, or None. Linear in the file: sizes are memoised per node."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_DEPTH:
            return _("nested more than {depth} levels deep", depth=MAX_DEPTH)
        if id(node) in sizes and not children_done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not children_done:
            sizes[id(node)] = -1  # in progress: an alias back to it is a cycle
            stack.append((node, depth, True))
            for child in children:
                if sizes.get(id(child)) == -1:
                    return _("an alias refers to a node that contains it")
                if id(child) not in sizes:
                    stack.append((child, depth + 1, False))
            continue
        total = 1 + sum(sizes[id(child)] for child in children)
        if total > MAX_NODES:
            return _(
                "expands to more than {count} values (YAML aliases repeating aliases?); "
                "write the policy out instead",
                count=f"{MAX_NODES:,}",
            )
        sizes[id(node)] = total
    return None


def _line_index(node: yaml.Node, path: tuple[Any, ...], index: dict[tuple[Any, ...], int]) -> None:
    # A key's own line wins over its value's (a mapping value starts on the next line).
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            index[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), index)
    elif isinstance(node, yaml.SequenceNode):
        for position, child in enumerate(node.value):
            _line_index(child, (*path, position), index)


def _flow_depth(text: str) -> int:
    """Deepest [ / { nesting outside quotes and comments; PyYAML's scanner is quadratic in it."""
    depth = deepest = 0
    quote = ""
    comment = False
    for char in text:
        if comment:
            comment = char != "\n"
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _compose(text: str, source: str) -> yaml.Node | None:
    if _flow_depth(text) > MAX_DEPTH:
        raise PolicyError(
            source, [("(file)", None, _("nested more than {depth} levels deep", depth=MAX_DEPTH))]
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(
            source,
            [("(file)", line, _("not valid YAML: {problem}", problem=getattr(exc, "problem", None) or exc))],
            ["yaml"],
        ) from exc
    except RecursionError as exc:  # the composer recurses once per level of nesting
        raise PolicyError(
            source, [("(file)", None, _("nested more than {depth} levels deep", depth=MAX_DEPTH))]
        ) from exc
    if root is not None:
        problem = _too_big(root)
        if problem:
            raise PolicyError(source, [("(file)", root.start_mark.line + 1, problem)])
    return root


def _construct(root: yaml.Node, source: str) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(
            source,
            [("(file)", line, _("not valid YAML: {problem}", problem=getattr(exc, "problem", None) or exc))],
            ["yaml"],
        ) from exc
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a timestamp like 2024-13-45
        raise PolicyError(
            source, [("(file)", None, _("a value cannot be read: {error}", error=exc))]
        ) from exc
    finally:
        loader.dispose()


def load_policy_text(text: str, source: str = "<policy>") -> Policy:
    if len(text) > MAX_BYTES:
        raise PolicyError(
            source,
            [
                (
                    "(file)",
                    None,
                    _("{count} characters; a policy file stays under 1 MiB", count=f"{len(text):,}"),
                )
            ],
        )
    root = _compose(text, source)
    if root is None:
        return Policy()
    data = _construct(root, source)
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(
            source, [("(file)", 1, _("the policy file must be a mapping of keys, like 'escalation:'"))]
        )
    lines: dict[tuple[Any, ...], int] = {}
    _line_index(root, (), lines)
    # Problems are told in the file's own language when it names one (our validators' words follow it).
    language = data.get("language") if data.get("language") in LANGUAGES else None
    try:
        with use_language(language):
            return Policy.model_validate(data)
    except ValidationError as exc:
        with use_language(language):
            problems, kinds = _problems(exc, lines)
        raise PolicyError(source, problems, kinds, language) from exc


def _problems(
    exc: ValidationError, lines: dict[tuple[Any, ...], int]
) -> tuple[list[tuple[str, int | None, str]], list[str]]:
    problems: list[tuple[str, int | None, str]] = []
    kinds: list[str] = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
        path = ".".join(str(part) for part in loc) or "(top level)"
        line = None
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in lines:
                line = lines[loc[:cut]]
                break
        message = error["msg"].removeprefix("Value error, ")
        kind = "invalid"
        if error["type"] == "extra_forbidden":
            message = _("unknown key; check its spelling against the configuration reference in the README")
            kind = "unknown_key"
        problems.append((path, line, message))
        kinds.append(kind)
    return problems, kinds


def load_policy(path: str | Path | None) -> Policy:
    """The policy from `path`, or the guide's defaults when no file is configured."""
    if path is None:
        return Policy()
    file = Path(path).expanduser()
    try:
        if file.stat().st_size > MAX_BYTES:
            raise PolicyError(
                str(file), [("(file)", None, _("over 1 MiB; a policy file is a few kilobytes"))]
            )
        raw = file.read_bytes()
    except OSError as exc:
        raise PolicyError(
            str(file),
            [("(file)", None, _("cannot read it: {error}", error=exc.strerror or exc))],
            ["unreadable"],
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(
            str(file),
            [
                (
                    "(file)",
                    line,
                    _("not UTF-8 text (byte {byte}); save it as UTF-8", byte=f"0x{raw[exc.start]:02x}"),
                )
            ],
        ) from exc
    return load_policy_text(text, source=str(file))
