"""Turning a tier's targets into people: user ids as they are, user groups through Slack, rotations by clock.

Group membership is read live (usergroups.users.list) at the moment a tier is paged, because
teams change; rotations come from the incident's policy snapshot. A `GroupCache` lives for one
tick pass so a thousand incidents paging one group cost one Slack call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config.policy import Policy
from bot.escalation.rotations import shift_at
from bot.ports import ChatError, PagerPort

ROTATION_PREFIX = "rotation:"

# Errors that retrying will not cure: the group is gone, or the app may not read groups.
PERMANENT_GROUP_ERRORS = frozenset(
    {"no_such_subteam", "subteam_not_found", "missing_scope", "not_allowed_token_type", "invalid_auth"}
)


class TargetError(Exception):
    """A target could not be resolved; `permanent` says whether to stop trying."""

    def __init__(self, target: str, code: str, permanent: bool):
        self.target, self.code, self.permanent = target, code, permanent
        super().__init__(f"{target}: {code}")


@dataclass
class GroupCache:
    pager: PagerPort
    members: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, TargetError] = field(default_factory=dict)

    def get(self, group_id: str) -> list[str]:
        if group_id in self.errors:
            raise self.errors[group_id]
        if group_id not in self.members:
            try:
                self.members[group_id] = list(self.pager.group_members(group_id))
            except ChatError as exc:
                self.errors[group_id] = TargetError(group_id, exc.code, exc.code in PERMANENT_GROUP_ERRORS)
                raise self.errors[group_id] from exc
            except Exception as exc:  # network trouble: worth another try next pass
                self.errors[group_id] = TargetError(group_id, type(exc).__name__, False)
                raise self.errors[group_id] from exc
        return self.members[group_id]


def kind_of(target: str) -> str:
    if target.startswith(ROTATION_PREFIX):
        return "rotation"
    return "group" if target.startswith("S") else "user"


def resolve_one(target: str, policy: Policy, at: datetime, groups: GroupCache) -> list[str]:
    kind = kind_of(target)
    if kind == "rotation":
        name = target.removeprefix(ROTATION_PREFIX)
        rotation = policy.rotations.get(name)
        if rotation is None:
            raise TargetError(target, "unknown_rotation", True)
        return [shift_at(rotation, at).user_id]
    if kind == "group":
        return groups.get(target)
    return [target]


@dataclass
class Resolved:
    users: list[str]  # in tier order, each once
    errors: list[TargetError]


def resolve(targets: Iterable[str], policy: Policy, at: datetime, groups: GroupCache) -> Resolved:
    """Every person the targets name at `at`, de-duplicated, keeping order; errors listed, not raised."""
    users: dict[str, None] = {}
    errors: list[TargetError] = []
    for target in targets:
        try:
            for user in resolve_one(target, policy, at, groups):
                users.setdefault(user)
        except TargetError as exc:
            errors.append(exc)
    return Resolved(list(users), errors)
