"""The rehearsal itself: a declaration at a moment, stepped rung by rung on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config.policy import Policy
from bot.escalation.ladder import plan
from bot.escalation.rotations import shift_at
from bot.escalation.service import ladder, ladder_name
from bot.escalation.targets import ROTATION_PREFIX, GroupCache, TargetError, kind_of, resolve_one
from bot.ports import ChatError, PageRequest, Posted


class _NoSlack:
    """A pager that never reaches Slack: a rehearsal sends nothing and reads no user groups."""

    def page(self, request: PageRequest) -> Posted:
        raise ChatError("rehearsal", "a rehearsal sends nothing")

    def direct_message(self, user_id: str, text: str) -> Posted:
        raise ChatError("rehearsal", "a rehearsal sends nothing")

    def language_of(self, user_id: str) -> str | None:
        return None

    def group_members(self, group_id: str) -> list[str]:
        raise ChatError("rehearsal", "user groups are listed by Slack when the tier is paged")


@dataclass(frozen=True)
class Source:
    """One target of a tier and whom it names at the moment of the page."""

    target: str
    kind: str  # user | group | rotation
    users: tuple[str, ...]
    shift_ends: datetime | None = None  # rotations: when the person on call hands off…
    next_user: str | None = None  # …and to whom
    timezone: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Rung:
    at: datetime
    tier: str
    tier_index: int
    loop: int
    timeout: timedelta
    sources: tuple[Source, ...]

    @property
    def users(self) -> list[str]:
        seen: dict[str, None] = {}
        for source in self.sources:
            for user in source.users:
                seen.setdefault(user)
        return list(seen)

    @property
    def pages_nobody(self) -> bool:
        return not any(s.users or s.kind == "group" for s in self.sources)


@dataclass
class Rehearsal:
    declared_at: datetime
    severity: str
    severity_label: str
    ladder_name: str
    repeat: int
    response_target: timedelta
    rungs: list[Rung] = field(default_factory=list)
    acknowledged_at: datetime | None = None
    exhausted_at: datetime | None = None

    @property
    def empty_rungs(self) -> list[Rung]:
        return [r for r in self.rungs if r.pages_nobody]


def _source(target: str, policy: Policy, at: datetime, groups: GroupCache) -> Source:
    kind = kind_of(target)
    if kind == "group":
        return Source(target, kind, ())
    try:
        users = tuple(resolve_one(target, policy, at, groups))
    except TargetError as exc:
        return Source(target, kind, (), error=exc.code)
    if kind != "rotation":
        return Source(target, kind, users)
    rotation = policy.rotations[target.removeprefix(ROTATION_PREFIX)]
    shift = shift_at(rotation, at)
    following = shift_at(rotation, shift.ends)
    return Source(target, kind, users, shift.ends, following.user_id, rotation.timezone)


def rehearse(
    policy: Policy, severity: str, declared_at: datetime, ack_after: timedelta | None = None
) -> Rehearsal:
    """Who the policy pages when, for a `severity` declaration at `declared_at` (aware)."""
    name = ladder_name(policy, severity)
    steps = ladder(policy, name)
    sev = policy.severity(severity)
    result = Rehearsal(declared_at, severity, sev.label, name, steps.repeat, sev.response)
    ack_at = declared_at + ack_after if ack_after is not None else None
    groups = GroupCache(_NoSlack())
    tier, loop, due = -1, 0, declared_at
    while True:
        if ack_at is not None and ack_at <= due and result.rungs:
            result.acknowledged_at = ack_at
            return result
        next_tier, next_loop = plan(tier, loop, steps)
        if next_tier is None:
            result.exhausted_at = due
            return result
        rung = steps.tiers[next_tier]
        sources = tuple(_source(t, policy, due, groups) for t in rung.targets)
        result.rungs.append(Rung(due, rung.name, next_tier, next_loop, rung.timeout, sources))
        tier, loop, due = next_tier, next_loop, due + rung.timeout
