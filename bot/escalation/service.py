"""Escalation entry points: start on declare, stop on ack/mitigate/resolve, pages by hand, who is on call.

All of these run inside the caller's transaction and only write rows; the tick
(bot.escalation.engine) does the paging. `start` and `page_by_hand` wake the local tick once
their transaction commits, so tier 1 and hand pages leave at once rather than at the next tick.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.config.durations import format_duration
from bot.config.policy import EscalationPolicy, Policy
from bot.escalation.models import MANUAL_TIER, EscalationState, PageOutbox
from bot.escalation.outbox import insert_rows
from bot.escalation.rotations import shift_at
from bot.escalation.targets import GroupCache, TargetError, kind_of, resolve, resolve_one
from bot.escalation.wake import nudge
from bot.i18n import N_
from bot.incidents.models import Incident
from bot.incidents.timeline import EventKind, add_event, said

DEFAULT_POLICY = "default"

_snapshots: OrderedDict[str, Policy] = OrderedDict()
_snapshots_lock = Lock()


def snapshot_policy(incident: Incident) -> Policy:
    """The policy as it was at declare time.

    Parsed once per distinct snapshot: incidents declared under one YAML share one key, so a
    thousand open incidents cost one validation — and, with the snapshot column left unloaded
    (`defer`), one read: the snapshot is touched only when its key is not cached yet. Keyed by
    content (the digest, or the snapshot itself for an incident without one), never by id, so a
    cache entry can never belong to another database's incident.
    """
    key = incident.policy_key or repr(incident.policy_snapshot or {})
    with _snapshots_lock:
        policy = _snapshots.get(key)
        if policy is not None:
            _snapshots.move_to_end(key)
            return policy
    policy = Policy.model_validate(incident.policy_snapshot or {})
    with _snapshots_lock:
        _snapshots[key] = policy
        while len(_snapshots) > 64:
            _snapshots.popitem(last=False)
    return policy


def ladder_name(policy: Policy, severity: str) -> str:
    return policy.severity(severity).escalation or DEFAULT_POLICY


def ladder(policy: Policy, name: str) -> EscalationPolicy:
    if name == DEFAULT_POLICY or name not in policy.escalation_policies:
        return policy.escalation
    return policy.escalation_policies[name]


def _wake_after_commit(session: Session) -> None:
    event.listen(session, "after_commit", lambda _session: nudge(), once=True)


def start(session: Session, incident: Incident, now: datetime) -> None:
    """Put the incident on its ladder: tier 1 is due now.

    The ladder (which named policy, its tiers) is fixed here from the incident's policy snapshot;
    a later severity change or YAML edit does not move a running ladder.
    """
    state = session.get(EscalationState, incident.id)
    if state is not None:
        return
    policy = snapshot_policy(incident) if incident.policy_snapshot else Policy()
    session.add(
        EscalationState(
            incident_id=incident.id,
            policy=ladder_name(policy, incident.severity),
            tier=-1,
            loop=0,
            next_at=now,
            active=True,
            updated_at=now,
        )
    )
    session.flush()
    _wake_after_commit(session)


def follow_severity(session: Session, incident: Incident, now: datetime) -> None:
    """After a severity change, a running ladder becomes the new severity's ladder (from the snapshot).

    Called in the severity change's transaction, after the incident row was locked (the same lock
    order as an ack). Tiers already paged stay paged; the next tier is the new ladder's next one,
    due when the new ladder says counting from the last page (or now, if that is past).
    """
    state = session.get(EscalationState, incident.id, with_for_update=True, populate_existing=True)
    if state is None or not state.active:
        return
    policy = snapshot_policy(incident) if incident.policy_snapshot else Policy()
    name = ladder_name(policy, incident.severity)
    if name == state.policy:
        return
    old, new = ladder(policy, state.policy), ladder(policy, name)
    state.policy = name
    if state.tier >= 0 and state.next_at is not None:
        paged_at = state.next_at - old.tiers[min(state.tier, len(old.tiers) - 1)].timeout
        state.next_at = max(now, paged_at + new.tiers[min(state.tier, len(new.tiers) - 1)].timeout)
    state.updated_at = now
    text, spec = said(
        N_("Escalation follows the {severity} ladder ({ladder}) from here"),
        severity=incident.severity.upper(),
        ladder=name,
    )
    add_event(
        session, incident.id, EventKind.ESCALATION, "warroom", text, data={"policy": name, **spec}, at=now
    )
    _wake_after_commit(session)


def stop(session: Session, incident_id: int, reason: str, now: datetime) -> None:
    """Stop the ladder in this transaction: once it commits, no page may leave.

    The tick re-reads `active` under a share lock on this row in the transaction that claims a
    page, so this row lock is what orders an ack against a page. (Pending outbox rows are left for
    the tick to cancel: touching them here could deadlock with a tick holding one of them.)
    """
    state = session.get(EscalationState, incident_id, with_for_update=True, populate_existing=True)
    if state is not None and state.active:
        state.active = False
        state.stopped_reason = reason
        state.next_at = None
        state.updated_at = now


def is_active(session: Session, incident_id: int) -> bool:
    state = session.get(EscalationState, incident_id)
    return bool(state and state.active)


@dataclass(frozen=True)
class HandPage:
    outbox_ids: list[int]
    users: list[str]
    skipped: list[str]  # already paged by this very request
    errors: list[TargetError]


def page_by_hand(
    session: Session,
    incident: Incident,
    targets: list[str],
    tier_name: str,
    requested_by: str,
    now: datetime,
    groups: GroupCache,
) -> HandPage:
    """Queue pages for `targets` (user ids, group ids, rotation:<name>) now, outside the ladder.

    Each request gets the next sequence number as its `loop`, so paging someone twice by hand
    pages them twice, while a retried delivery of one request pages them once.
    """
    policy = snapshot_policy(incident)
    resolved = resolve(targets, policy, now, groups)
    seq = (
        session.scalar(
            select(func.max(PageOutbox.loop)).where(
                PageOutbox.incident_id == incident.id, PageOutbox.tier == MANUAL_TIER
            )
        )
        or 0
    ) + 1
    ids = insert_rows(
        session,
        [
            dict(
                incident_id=incident.id,
                kind="page",
                loop=seq,
                tier=MANUAL_TIER,
                target=user,
                tier_name=tier_name,
                due_at=now,
                next_attempt_at=now,
                requested_by=requested_by,
            )
            for user in resolved.users
        ],
    )
    who = ", ".join(f"<@{u}>" for u in resolved.users)
    text, spec = said(
        N_("Paging by hand ({tier}): {who}"),
        () if who else ("who",),
        tier=tier_name,
        who=who or N_("nobody"),
    )
    add_event(
        session,
        incident.id,
        EventKind.ESCALATION,
        requested_by,
        text,
        data={
            "manual": True,
            "seq": seq,
            "targets": targets,
            "users": resolved.users,
            "tier": tier_name,
            **spec,
        },
        at=now,
    )
    if ids:
        _wake_after_commit(session)
    return HandPage(ids, resolved.users, [], resolved.errors)


@dataclass(frozen=True)
class OnCallLine:
    tier: str
    timeout: str
    target: str
    kind: str
    users: list[str]
    until: datetime | None  # end of the rotation shift
    timezone: str | None
    error: str | None


def on_call_now(
    policy: Policy, ladder_policy: EscalationPolicy, now: datetime, groups: GroupCache
) -> list[OnCallLine]:
    """Who each tier of `ladder_policy` would page at `now`, target by target."""
    lines = []
    for tier in ladder_policy.tiers:
        if not tier.targets:
            lines.append(
                OnCallLine(tier.name, format_duration(tier.timeout), "", "none", [], None, None, None)
            )
        for target in tier.targets:
            kind = kind_of(target)
            until = zone = error = None
            users: list[str] = []
            try:
                users = resolve_one(target, policy, now, groups)
                if kind == "rotation":
                    rotation = policy.rotations[target.removeprefix("rotation:")]
                    until, zone = shift_at(rotation, now).ends, rotation.timezone
            except TargetError as exc:
                error = exc.code
            lines.append(
                OnCallLine(tier.name, format_duration(tier.timeout), target, kind, users, until, zone, error)
            )
    return lines


__all__ = [
    "DEFAULT_POLICY",
    "HandPage",
    "OnCallLine",
    "follow_severity",
    "is_active",
    "ladder",
    "ladder_name",
    "on_call_now",
    "page_by_hand",
    "snapshot_policy",
    "start",
    "stop",
]
