"""One module per family of remediation (k8s, docker, aws, mysql, redis), each with preview(ctx) and apply(ctx)."""

from __future__ import annotations

from bot.remediation.actions import (
    aws,
    aws_security,
    docker,
    docker_ops,
    k8s,
    k8s_rollback,
    k8s_secrets,
    mysql,
    mysql_admin,
    redis,
)
from bot.remediation.actions.base import Action

ACTIONS: dict[str, Action] = {
    action.name: action
    for module in (
        k8s,
        k8s_rollback,
        k8s_secrets,
        docker,
        docker_ops,
        aws,
        aws_security,
        mysql,
        mysql_admin,
        redis,
    )
    for action in module.ACTIONS
}
KINDS: tuple[str, ...] = tuple(dict.fromkeys(action.kind for action in ACTIONS.values()))


def of_kind(kind: str) -> dict[str, Action]:
    """The verbs of one kind, e.g. {"restart": …, "scale": …} for k8s."""
    return {a.verb: a for a in ACTIONS.values() if a.kind == kind}
