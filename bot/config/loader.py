"""Reads the policy file and turns validation errors into one message: file, key path, line, problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.policy import Policy


class PolicyError(Exception):
    """A policy file that cannot be used. `problems` holds (key path, line or None, message)."""

    def __init__(self, source: str, problems: list[tuple[str, int | None, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the policy file"]
        for path, line, message in problems:
            where = f"{path} (line {line})" if line else path
            lines.append(f"  - {where}: {message}")
        super().__init__("\n".join(lines))


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


def load_policy_text(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(
            source, [("(file)", line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
        ) from exc
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(
            source, [("(file)", 1, "the policy file must be a mapping of keys, like 'escalation:'")]
        )
    lines: dict[tuple[Any, ...], int] = {}
    if root is not None:
        _line_index(root, (), lines)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            path = ".".join(str(part) for part in loc) or "(top level)"
            line = None
            for cut in range(len(loc), -1, -1):
                if loc[:cut] in lines:
                    line = lines[loc[:cut]]
                    break
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key; check its spelling against the configuration reference in the README"
            problems.append((path, line, message))
        raise PolicyError(source, problems) from exc


def load_policy(path: str | Path | None) -> Policy:
    """The policy from `path`, or the guide's defaults when no file is configured."""
    if path is None:
        return Policy()
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(file), [("(file)", None, f"cannot read it: {exc.strerror or exc}")]) from exc
    return load_policy_text(text, source=str(file))
