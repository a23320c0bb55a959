"""One module per kind of remediation (k8s, docker, aws, mysql), each with preview(ctx) and apply(ctx)."""

from __future__ import annotations

from bot.remediation.actions import aws, docker, k8s, mysql
from bot.remediation.actions.base import Action

ACTIONS: dict[str, Action] = {
    action.name: action for module in (k8s, docker, aws, mysql) for action in module.ACTIONS
}
KINDS: tuple[str, ...] = tuple(dict.fromkeys(action.kind for action in ACTIONS.values()))


def of_kind(kind: str) -> dict[str, Action]:
    """The verbs of one kind, e.g. {"restart": …, "scale": …} for k8s."""
    return {a.verb: a for a in ACTIONS.values() if a.kind == kind}
