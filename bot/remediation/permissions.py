"""Who may confirm or cancel a remediation: `roles.remediators` (user ids U…/W… and user groups S…).

User groups are resolved at the moment of the click through the chat platform
(usergroups.users.list via `PagerPort.group_members`), so membership changes apply at once.
The requester may cancel their own request; confirming always needs the role, even for the requester.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.config.policy import Policy
from bot.i18n import _
from bot.ports import PagerPort

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # why not, in plain words (empty when allowed)
    via: str | None = None  # the id that granted it: the user's own id, or a group id
    allowed_ids: tuple[str, ...] = field(default_factory=tuple)  # who may (users and groups), for refusals


def remediators(policy: Policy) -> tuple[str, ...]:
    return tuple(policy.roles.remediators)


def _users(ids: tuple[str, ...]) -> list[str]:
    return [i for i in ids if i[:1] in ("U", "W")]


def _groups(ids: tuple[str, ...]) -> list[str]:
    return [i for i in ids if i.startswith("S")]


def may_confirm(policy: Policy, pager: PagerPort, user_id: str) -> Verdict:
    ids = remediators(policy)
    if not ids:
        return Verdict(
            False,
            _(
                "nobody may confirm remediations yet: list user ids (U…) or user groups (S…) under "
                "`roles.remediators` in the YAML policy"
            ),
        )
    if user_id in _users(ids):
        return Verdict(True, via=user_id, allowed_ids=ids)
    unreadable = []
    for group in _groups(ids):
        try:
            members = pager.group_members(group)
        except Exception as exc:  # a group we cannot read grants nothing, but the refusal says so
            log.warning("could not read members of user group %s: %s", group, exc)
            unreadable.append(group)
            continue
        if user_id in members:
            return Verdict(True, via=group, allowed_ids=ids)
    reason = _("you are not a remediator (`roles.remediators` in the YAML policy)")
    if unreadable:
        reason += _("; the members of {groups} could not be read just now", groups=", ".join(unreadable))
    return Verdict(False, reason, allowed_ids=ids)


def may_cancel(policy: Policy, pager: PagerPort, user_id: str, requester: str) -> Verdict:
    if user_id == requester:
        return Verdict(True, via=user_id, allowed_ids=remediators(policy))
    verdict = may_confirm(policy, pager, user_id)
    if verdict.allowed:
        return verdict
    return Verdict(
        False, _("only the requester or a remediator may cancel it"), allowed_ids=verdict.allowed_ids
    )
