"""The contact book (SPEC §13): who is on call now at each desk, and the external support lines.

A desk is an escalation policy: `default` (the ops desk, 运维值班) and every entry of
`escalation_policies` (e.g. `security`, 安全值班; `dev`, 开发值班). Who is on call is resolved
through rotations and user groups exactly as a page would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config.policy import Policy
from bot.escalation import service as escalation
from bot.escalation.service import OnCallLine
from bot.escalation.targets import GroupCache


@dataclass(frozen=True)
class Desk:
    name: str
    types: list[str]  # the incident types that page this desk
    lines: list[OnCallLine]  # the first tier's targets, resolved now


def desks(policy: Policy, now: datetime, groups: GroupCache) -> list[Desk]:
    """Every desk, with who its first tier would page at `now`."""
    from bot.config.security import desk_of

    names = [escalation.DEFAULT_POLICY, *policy.escalation_policies]
    by_desk: dict[str, list[str]] = {}
    for type_name, kind in policy.incident_types.items():
        desk = desk_of(type_name, kind, set(policy.escalation_policies)) or escalation.DEFAULT_POLICY
        by_desk.setdefault(desk, []).append(type_name)
    found = []
    for name in names:
        ladder = escalation.ladder(policy, name)
        first = ladder.tiers[0]
        single = ladder.model_copy(update={"tiers": [first]})
        found.append(
            Desk(name, sorted(by_desk.get(name, [])), escalation.on_call_now(policy, single, now, groups))
        )
    return found
