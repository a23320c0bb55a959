"""Bring Slack up to date with an alert group's state: declare, propose, fold, tell the resolution.

A group is synced by one process at a time (a lease row-locked in the claim), and each step is
idempotent — the declaration under the request key `alert:<group>:<activation>`, timeline events
under dedupe keys — so a crash in the middle is finished by the next tick, never doubled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from bot.alerts import metrics
from bot.alerts.models import AlertGroup
from bot.alerts.service import is_pg
from bot.alerts.views import AlertGroupView
from bot.db.locks import write_lock
from bot.i18n import N_, ngettext
from bot.incidents import flows
from bot.incidents.models import Incident, TimelineEvent
from bot.incidents.service import IncidentError
from bot.incidents.timeline import EventKind, add_event, said
from bot.ports import ChatError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.runtime import Runtime

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 100


def actor(group: AlertGroup | AlertGroupView) -> str:
    """Who the timeline says did it: the alert source, e.g. alerts:prometheus."""
    return f"alerts:{group.source}"[:32]


@dataclass
class _Claim:
    id: int
    version: int


def dirty_groups(runtime: Runtime, limit: int = BATCH) -> list[int]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(AlertGroup.id)
                .where(AlertGroup.dirty_at.is_not(None))
                .order_by(AlertGroup.is_storm, AlertGroup.dirty_at)  # storms after their members
                .limit(limit)
            )
        )


def _claim(runtime: Runtime, group_id: int, now: datetime) -> _Claim | None:
    with runtime.session() as session:
        write_lock(session)
        query = select(AlertGroup).where(AlertGroup.id == group_id, AlertGroup.dirty_at.is_not(None))
        if is_pg(session):
            query = query.with_for_update(skip_locked=True)
        group = session.scalars(query).one_or_none()
        if group is None or (group.lease_until is not None and group.lease_until > now):
            return None
        group.lease_until = now + LEASE
        return _Claim(group.id, group.version)


class RoomNotReady(Exception):
    """The group's incident has no war room yet (its set-up is late): tell the room on a later pass."""


def _release(runtime: Runtime, claim: _Claim) -> None:
    with runtime.session() as session:
        session.execute(update(AlertGroup).where(AlertGroup.id == claim.id).values(lease_until=None))
        # Changed while we worked: stay dirty, the next pass syncs the newer state.
        session.execute(
            update(AlertGroup)
            .where(AlertGroup.id == claim.id, AlertGroup.version == claim.version)
            .values(dirty_at=None)
        )


def sync_groups(runtime: Runtime, group_ids: list[int] | set[int]) -> int:
    done = 0
    # Members before storms, so a storm's listing includes the members just applied.
    for group_id in sorted(group_ids, key=lambda gid: _is_storm(runtime, gid)):
        claim = _claim(runtime, group_id, runtime.clock.now())
        if claim is None:
            continue
        try:
            _sync(runtime, group_id)
            done += 1
        except RoomNotReady:  # the group stays dirty; the room is told once it exists
            log.info("alerts: group %s waits for its war room", group_id)
            with runtime.session() as session:
                session.execute(update(AlertGroup).where(AlertGroup.id == group_id).values(lease_until=None))
            continue
        except Exception:  # the group stays dirty; the next tick tries again
            log.exception("alerts: sync of group %s failed", group_id)
            with runtime.session() as session:
                session.execute(update(AlertGroup).where(AlertGroup.id == group_id).values(lease_until=None))
            continue
        _release(runtime, claim)
    return done


def _is_storm(runtime: Runtime, group_id: int) -> bool:
    with runtime.session() as session:
        return bool(session.scalar(select(AlertGroup.is_storm).where(AlertGroup.id == group_id)))


def view(session: Session, group: AlertGroup) -> AlertGroupView:
    channel = None
    if group.incident_id is not None:
        channel = session.scalar(select(Incident.channel_id).where(Incident.id == group.incident_id))
    members: tuple[tuple[str, str, str], ...] = ()
    if group.is_storm:
        rows = session.execute(
            select(AlertGroup.title, AlertGroup.source, AlertGroup.status)
            .where(AlertGroup.storm_id == group.id)
            .order_by(AlertGroup.id)
        ).all()
        members = tuple((str(t), str(s), str(st)) for t, s, st in rows)
    return AlertGroupView.of(group, incident_channel=channel, members=members)


def _load(runtime: Runtime, group_id: int) -> tuple[AlertGroup, AlertGroupView, str | None]:
    with runtime.session() as session:
        group = session.get(AlertGroup, group_id)
        assert group is not None
        snapshot = view(session, group)
        status = None
        if group.incident_id is not None:
            status = session.scalar(select(Incident.status).where(Incident.id == group.incident_id))
        session.expunge(group)
        return group, snapshot, status


def _sync(runtime: Runtime, group_id: int) -> None:
    group, snapshot, incident_status = _load(runtime, group_id)
    if group.state == "declaring" and group.incident_id is None:
        _declare(runtime, group)
        group, snapshot, incident_status = _load(runtime, group_id)
    if group.state == "proposing" and group.proposal_ts is None:
        _propose(runtime, group, snapshot)
        group, snapshot, incident_status = _load(runtime, group_id)
    elif group.proposal_ts and group.proposal_channel and runtime.alerts is not None:
        _chat(lambda: runtime.alerts.update_proposal(group.proposal_channel, group.proposal_ts, snapshot))  # type: ignore[union-attr, arg-type]
    if group.incident_id is None or incident_status is None:
        return
    if group.detail.get("ack_requested") and incident_status == "declared":
        _change(runtime, group, "acknowledged")
    if group.repeats > group.told_repeats or group.is_storm:
        _fold(runtime, group, snapshot)
    if group.status == "resolved" and not group.resolution_told and incident_status != "resolved":
        _resolution(runtime, group, snapshot)


def _chat(call) -> object | None:  # type: ignore[no-untyped-def]
    try:
        return call()
    except ChatError as exc:
        log.warning("alerts: chat call failed: %s", exc.code)
        return None


def _declare(runtime: Runtime, group: AlertGroup) -> None:
    result = flows.declare(
        runtime,
        severity=group.severity or "p2",
        title=group.title or "Alert",
        reporter_id=actor(group),
        origin_channel_id=None,
        request_key=f"alert:{group.id}:{group.activation}",
        dedupe_repeats=False,
        wait=0.0,  # the alerts tick must not stall on one room's set-up; the set-up tick finishes it
    )
    incident_id = result.incident.id
    with runtime.session() as session:
        write_lock(session)
        row = session.get(AlertGroup, group.id)
        assert row is not None
        row.incident_id, row.state = incident_id, "declared"
        data = {
            **(group.detail or {}),
            "group_id": group.id,
            "previous_incident_id": group.previous_incident_id,
        }
        data.pop("ack_requested", None)
        text, spec = _opened(group)
        data.update(spec)
        add_event(
            session,
            incident_id,
            EventKind.ALERT,
            actor(group),
            text,
            data=data,
            dedupe_key=f"alert:{group.id}:{group.activation}",
        )
    metrics.group_outcome(group.source, "declared")
    if result.created:
        flows.refresh_summary(runtime, flows.current_view(runtime, incident_id))


def _opened(group: AlertGroup) -> tuple[str, dict[str, Any]]:
    """The timeline row of an incident opened by an alert, stored in English and rendered for the reader."""
    values = {"source": group.source, "title": group.title, "who": f"<@{group.decided_by}>"}
    if group.previous_incident_id:
        values["handle"] = f"INC-{group.previous_incident_id}"
        if group.mode == "auto" and not group.decided_by:
            msgid = N_("Opened from a {source} alert automatically: {title} (fired again after {handle})")
        elif group.decided_by == "timer":
            msgid = N_(
                "Opened from a {source} alert after nobody answered the proposal: {title} "
                "(fired again after {handle})"
            )
        else:
            msgid = N_(
                "Opened from a {source} alert after {who} declared it: {title} (fired again after {handle})"
            )
    elif group.mode == "auto" and not group.decided_by:
        msgid = N_("Opened from a {source} alert automatically: {title}")
    elif group.decided_by == "timer":
        msgid = N_("Opened from a {source} alert after nobody answered the proposal: {title}")
    else:
        msgid = N_("Opened from a {source} alert after {who} declared it: {title}")
    used = {k: v for k, v in values.items() if "{" + k + "}" in msgid}
    return said(msgid, **used)


def _propose(runtime: Runtime, group: AlertGroup, snapshot: AlertGroupView) -> None:
    channel = runtime.policy.announce_channel
    posted = None
    if channel and runtime.alerts is not None:
        posted = _chat(lambda: runtime.alerts.post_proposal(channel, snapshot))  # type: ignore[union-attr]
        if posted is None:
            raise RuntimeError("the proposal could not be posted; retried on the next tick")
    with runtime.session() as session:
        write_lock(session)
        row = session.get(AlertGroup, group.id)
        assert row is not None
        if row.state == "proposing":
            row.state = "proposed"
        if posted is not None:
            row.proposal_channel, row.proposal_ts = posted.channel_id, posted.ts  # type: ignore[attr-defined]
    metrics.group_outcome(group.source, "proposed")


def _fold(runtime: Runtime, group: AlertGroup, snapshot: AlertGroupView) -> None:
    """One timeline event and one room message per activation, updated with the count."""
    kind = "storm" if group.is_storm else "fold"
    with runtime.session() as session:
        key = f"alert-fold:{group.id}:{group.activation}"
        text = _fold_text(snapshot)
        event = session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.incident_id == group.incident_id, TimelineEvent.dedupe_key == key
            )
        )
        if event is None:
            add_event(
                session,
                group.incident_id,
                EventKind.ALERT,
                actor(group),
                text,
                dedupe_key=key,
                data={"repeats": group.repeats},
            )  # type: ignore[arg-type]
        else:
            event.text, event.data = text, {"repeats": group.repeats, "members": len(snapshot.members)}
    channel = snapshot.incident_channel
    notice_ts = group.notice_ts
    if channel is None and runtime.alerts is not None:
        raise RoomNotReady  # not counted as told: the notice is posted once the room exists
    if channel and runtime.alerts is not None:
        if notice_ts:
            _chat(lambda: runtime.alerts.update_alert_notice(channel, notice_ts, snapshot, kind))  # type: ignore[union-attr]
        else:
            posted = _chat(lambda: runtime.alerts.post_alert_notice(channel, snapshot, kind))  # type: ignore[union-attr]
            notice_ts = posted.ts if posted is not None else None  # type: ignore[attr-defined]
    with runtime.session() as session:
        session.execute(
            update(AlertGroup)
            .where(AlertGroup.id == group.id)
            .values(told_repeats=max(group.repeats, group.told_repeats), notice_ts=notice_ts)
        )


def _fold_text(snapshot: AlertGroupView) -> str:
    if snapshot.members:
        return ngettext(
            "Alert storm: {n} alert group folded into this incident.",
            "Alert storm: {n} alert groups folded into this incident.",
            len(snapshot.members),
        )
    return ngettext(
        "Alert group repeated: {n} more notification folded ({firing}).",
        "Alert group repeated: {n} more notifications folded ({firing}).",
        snapshot.repeats,
        firing=ngettext(
            "{firing} of {n} alert firing",
            "{firing} of {n} alerts firing",
            snapshot.total,
            firing=snapshot.firing,
        ),
    )


def _change(runtime: Runtime, group: AlertGroup, change: str) -> None:
    try:
        flows.change_status(runtime, group.incident_id, actor(group), change)  # type: ignore[arg-type]
    except IncidentError as exc:  # already acknowledged/resolved by a person: nothing to do
        log.info("alerts: %s skipped: %s", change, exc)
    with runtime.session() as session:
        row = session.get(AlertGroup, group.id)
        assert row is not None
        row.detail = {k: v for k, v in (row.detail or {}).items() if k != "ack_requested"}


def _resolution(runtime: Runtime, group: AlertGroup, snapshot: AlertGroupView) -> None:
    if group.auto_resolve:
        msgid = N_("The {source} alert group resolved — resolving the incident (auto_resolve).")
    else:
        msgid = N_("The {source} alert group resolved.")
    resolved_text, resolved_spec = said(msgid, source=group.source)
    with runtime.session() as session:
        add_event(
            session,
            group.incident_id,  # type: ignore[arg-type]
            EventKind.ALERT,
            actor(group),
            resolved_text,
            data=resolved_spec,
            dedupe_key=f"alert-resolved:{group.id}:{group.activation}:{group.resolved_at.isoformat() if group.resolved_at else ''}",
        )
    if group.auto_resolve:
        _change(runtime, group, "resolved")
    elif snapshot.incident_channel is None and runtime.alerts is not None:
        raise RoomNotReady
    elif snapshot.incident_channel and runtime.alerts is not None:
        channel = snapshot.incident_channel
        if _chat(lambda: runtime.alerts.post_alert_notice(channel, snapshot, "resolved")) is None:  # type: ignore[union-attr]
            raise RuntimeError("the resolution notice could not be posted; retried on the next tick")
    with runtime.session() as session:
        session.execute(update(AlertGroup).where(AlertGroup.id == group.id).values(resolution_told=True))
