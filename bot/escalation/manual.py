"""Paging by hand (`/incident page …`): check the request against the incident's ladder, queue, send now.

The handler parses the command line into tokens and renders the outcome; what a token means
(a person, a user group, a rotation, a tier of this incident's ladder) and whether it may be
paged is decided here, against the policy snapshotted at declare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.config.policy import EscalationPolicy, Policy
from bot.escalation import service as escalation
from bot.escalation.delivery import send_due
from bot.escalation.models import EscalationState, PageOutbox
from bot.escalation.targets import GroupCache, TargetError
from bot.i18n import _
from bot.idempotency import claim
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError

if TYPE_CHECKING:
    from bot.runtime import Runtime

PAGE_USAGE = "page @user | page tier2 | page @group | page rotation:<name>"
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
_GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$|^@?(S[A-Z0-9]{2,})$")
_TIER_NUMBER = re.compile(r"^(?:tier)?\s*(\d+)$")


@dataclass(frozen=True)
class Delivery:
    target: str
    slack: dict[str, Any]  # the Slack DM's outcome so far: {"ok": True, …} or {"error": …}; {} if queued


@dataclass(frozen=True)
class HandPageOutcome:
    label: str  # for the timeline and the answer: "tier2", "manual", …
    duplicate: bool = False  # the same request was delivered twice by Slack: nothing was done again
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[TargetError] = field(default_factory=list)


def _tier(ladder: EscalationPolicy, token: str) -> int | None:
    names = [t.name.lower() for t in ladder.tiers]
    if token.lower() in names:
        return names.index(token.lower())
    match = _TIER_NUMBER.match(token.lower())
    if match and 1 <= int(match.group(1)) <= len(ladder.tiers):
        return int(match.group(1)) - 1
    return None


def parse_targets(tokens: list[str], ladder: EscalationPolicy, policy: Policy) -> tuple[list[str], str]:
    """Targets and a label for the timeline ("tier2", "manual")."""
    targets: list[str] = []
    tiers: list[str] = []
    for token in tokens:
        user, group = _USER.match(token), _GROUP.match(token)
        tier = _tier(ladder, token)
        if user:
            targets.append(user.group(1) or user.group(2))
        elif group:
            targets.append(group.group(1) or group.group(2))
        elif token.startswith("rotation:"):
            if token.removeprefix("rotation:") not in policy.rotations:
                names = ", ".join(sorted(policy.rotations)) or _("none configured")
                raise IncidentError(
                    _("There is no rotation `{token}`. Rotations: {names}.", token=token, names=names)
                )
            targets.append(token)
        elif tier is not None:
            tiers.append(ladder.tiers[tier].name)
            if not ladder.tiers[tier].targets:
                raise IncidentError(
                    _(
                        "{tier} has no targets in the policy, so there is nobody to page. "
                        "Page a person instead: `/incident page @user`.",
                        tier=ladder.tiers[tier].name,
                    )
                )
            targets.extend(ladder.tiers[tier].targets)
        else:
            names = ", ".join(t.name for t in ladder.tiers)
            raise IncidentError(
                _(
                    "`{token}` is not someone I can page. Use `/incident {usage}` (tiers: {names}).",
                    token=token,
                    usage=PAGE_USAGE,
                    names=names,
                )
            )
    return list(dict.fromkeys(targets)), "+".join(tiers) if tiers else "manual"


def page_now(
    runtime: Runtime, incident_id: int, tokens: list[str], actor: str, request_key: str | None
) -> HandPageOutcome:
    """Queue a page for every target now and send it in this thread; raises IncidentError on bad input."""
    if not tokens:
        raise IncidentError(_("Whom should I page? `/incident {usage}`.", usage=PAGE_USAGE))
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        if incident.status == "resolved":
            raise IncidentError(
                _(
                    "{handle} is resolved. `/incident reopen` first to page anyone for it.",
                    handle=f"INC-{incident.id}",
                )
            )
        policy = escalation.snapshot_policy(incident)
        state = session.get(EscalationState, incident.id)
        name = state.policy if state else escalation.ladder_name(policy, incident.severity)
        targets, label = parse_targets(tokens, escalation.ladder(policy, name), policy)
        if request_key and not claim(session, f"page:{request_key}"):
            return HandPageOutcome(label, duplicate=True)
        result = escalation.page_by_hand(
            session, incident, targets, label, actor, now, GroupCache(runtime.pager)
        )
        if not result.users:
            problems = ", ".join(f"{e.target} ({e.code})" for e in result.errors) or _("nobody resolved")
            raise IncidentError(_("Nobody to page: {problems}.", problems=problems))
    # Send now, in this thread, rather than at the next tick (the claim makes it exactly-once anyway).
    send_due(runtime, only_ids=result.outbox_ids)
    with runtime.session() as session:
        rows = session.scalars(select(PageOutbox).where(PageOutbox.id.in_(result.outbox_ids))).all()
        deliveries = [Delivery(row.target, dict((row.deliveries or {}).get("slack", {}))) for row in rows]
    return HandPageOutcome(label, deliveries=deliveries, errors=list(result.errors))
