"""Applying received alerts to their groups, and the decisions people (or the timer) take on them.

Every change here is one transaction on the database and marks the group dirty; what Slack must
show for it is done afterwards by `bot.alerts.sync`, so a Slack outage never loses an alert.

Locks: events are claimed FOR UPDATE SKIP LOCKED (PostgreSQL) and their groups locked in one sorted
order, so two replicas never apply the same event and never deadlock on two groups.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.alerts import metrics
from bot.alerts.models import AlertEvent, AlertGroup
from bot.alerts.normalize import digest
from bot.alerts.routing import decide
from bot.alerts.views import alert_state_name
from bot.config.alerts import AlertsConfig
from bot.db.locks import write_lock
from bot.i18n import _
from bot.incidents.models import Incident

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
BATCH = 200
STORM_WINDOW = timedelta(minutes=1)
LIVE_STATES = ("declaring", "declared", "proposing", "proposed", "stormed")


class AlertError(Exception):
    """A user's request about an alert that cannot be done (told to them, nothing changes)."""


def is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def mark_dirty(group: AlertGroup, now: datetime) -> None:
    group.version = (group.version or 0) + 1
    group.dirty_at = group.dirty_at or now


# ------------------------------------------------------------------------------- apply the inbox
def apply_pending(runtime: Runtime) -> set[int]:
    """Apply every unprocessed alert to its group; returns the ids of the groups that changed."""
    touched: set[int] = set()
    while True:
        with runtime.session() as session:
            write_lock(session)
            query = (
                select(AlertEvent)
                .where(AlertEvent.processed_at.is_(None))
                .order_by(AlertEvent.id)
                .limit(BATCH)
            )
            if is_pg(session):
                query = query.with_for_update(skip_locked=True)
            events = list(session.scalars(query))
            if not events:
                return touched
            now = runtime.clock.now()
            by_group: dict[tuple[str, str], list[AlertEvent]] = defaultdict(list)
            for event in events:
                by_group[(event.source, event.group_hash)].append(event)
            for key in sorted(by_group):  # one lock order for every process
                group = _group_for_update(session, *key, by_group[key][0], now)
                for event in by_group[key]:
                    changed = _apply(session, runtime.policy.alerts, group, event, now)
                    touched.update(changed)
                    event.processed_at = now
        if len(events) < BATCH:
            return touched


def _group_for_update(
    session: Session, source: str, group_hash: str, first: AlertEvent, now: datetime
) -> AlertGroup:
    query = select(AlertGroup).where(AlertGroup.source == source, AlertGroup.group_hash == group_hash)
    if is_pg(session):
        from sqlalchemy.dialects.postgresql import insert

        session.execute(
            insert(AlertGroup)
            .values(_new_group(source, group_hash, first, now))
            .on_conflict_do_nothing(index_elements=["source", "group_hash"])
        )
        return session.scalars(query.with_for_update()).one()
    group = session.scalars(query).one_or_none()
    if group is None:
        group = AlertGroup(**_new_group(source, group_hash, first, now))
        session.add(group)
        session.flush()
    return group


def _new_group(source: str, group_hash: str, first: AlertEvent, now: datetime) -> dict[str, Any]:
    return dict(
        source=source,
        group_hash=group_hash,
        group_key=str(first.alert.get("group_key", ""))[:2000],
        status="firing",
        state="new",
        auto_resolve=False,
        title=str(first.alert.get("title") or "Alert")[:200],
        detail={},
        alerts={},
        activation=0,
        repeats=0,
        told_repeats=0,
        is_storm=False,
        resolution_told=False,
        version=0,
        first_seen=now,
        last_seen=now,
    )


def _incident_open(session: Session, incident_id: int | None) -> bool:
    if incident_id is None:
        return False
    status = session.scalar(select(Incident.status).where(Incident.id == incident_id))
    return status is not None and status != "resolved"


def _detail(alert: dict[str, Any], source: str) -> dict[str, Any]:
    keys = ("labels", "annotations", "summary", "generator_url", "silence_url", "links", "starts_at")
    return {"source": source, **{key: alert.get(key) for key in keys}}


def _apply(
    session: Session, config: AlertsConfig, group: AlertGroup, event: AlertEvent, now: datetime
) -> set[int]:
    alert = event.alert
    fingerprint = str(alert.get("fingerprint", ""))
    alerts = dict(group.alerts or {})
    previous = alerts.get(fingerprint, {})
    if previous.get("event", 0) > event.id:
        return set()  # an older delivery overtaken by a newer one: the newer state stands
    group.last_seen = now
    changed = {group.id}
    if event.action == "acknowledge":
        group.detail = {**(group.detail or {}), "ack_requested": True}
        mark_dirty(group, now)
        return changed
    status = "firing" if event.action == "trigger" else "resolved"
    alerts[fingerprint] = {"status": status, "event": event.id}
    group.alerts = alerts
    if status == "firing":
        fresh = group.state == "new" or (
            group.state in ("declared", "declaring")
            and group.incident_id
            and not _incident_open(session, group.incident_id)
        )
        fresh = fresh or (
            group.status == "resolved" and group.state in ("dismissed", "ignored", "unmatched", "proposed")
        )
        if group.state == "stormed" and group.status == "resolved":
            fresh = True
        group.status, group.resolved_at = "firing", None
        if fresh:
            changed |= _activate(session, config, group, alert, now)
        else:
            group.repeats += 1
            if group.storm_id:
                changed.add(group.storm_id)
    elif all(a.get("status") == "resolved" for a in alerts.values()):
        group.status, group.resolved_at = "resolved", now
        group.resolution_told = False
        if group.storm_id:
            changed |= _storm_member_resolved(session, group, now)
    mark_dirty(group, now)
    return changed


def _activate(
    session: Session, config: AlertsConfig, group: AlertGroup, alert: dict[str, Any], now: datetime
) -> set[int]:
    """The group fires anew: route it, and open (or propose, or fold into a storm) its incident."""
    if group.incident_id is not None:
        group.previous_incident_id = group.incident_id
    group.incident_id = None
    group.activation += 1
    group.activated_at = now
    group.repeats = group.told_repeats = 0
    group.notice_ts = group.proposal_ts = group.proposal_channel = group.decided_by = None
    group.confirm_at, group.storm_id, group.resolution_told = None, None, False
    group.alerts = {k: v for k, v in (group.alerts or {}).items() if v.get("status") == "firing"}
    group.title = str(alert.get("title") or "Alert")[:200]
    group.detail = _detail(alert, group.source)
    decision = decide(config, group.source, dict(alert.get("labels") or {}))
    group.route, group.severity, group.mode = decision.route, decision.severity, decision.mode
    group.auto_resolve = decision.auto_resolve
    if decision.mode in ("ignore", "unmatched"):
        group.state = "ignored" if decision.mode == "ignore" else "unmatched"
        metrics.group_outcome(group.source, group.state)
        return {group.id}
    if _storming(session, config, group, now):
        return {group.id, _join_storm(session, group, now)}
    if decision.mode == "auto":
        group.state = "declaring"
    else:
        group.state = "proposing"
        route = config.routes[decision.route] if decision.route is not None else None
        if route is not None and route.confirm_within is not None:
            group.confirm_at = now + route.confirm_within
    return {group.id}


# ------------------------------------------------------------------------------------------ storms
def _storming(session: Session, config: AlertsConfig, group: AlertGroup, now: datetime) -> bool:
    recent = session.scalar(
        select(func.count())
        .select_from(AlertGroup)
        .where(
            AlertGroup.source == group.source,
            AlertGroup.is_storm.is_(False),
            AlertGroup.id != group.id,
            AlertGroup.activated_at >= now - STORM_WINDOW,
            AlertGroup.state.in_(LIVE_STATES),
        )
    )
    return int(recent or 0) >= config.storm_threshold


def _join_storm(session: Session, group: AlertGroup, now: datetime) -> int:
    storm = session.scalars(
        select(AlertGroup)
        .where(
            AlertGroup.source == group.source,
            AlertGroup.is_storm.is_(True),
            AlertGroup.status == "firing",
            AlertGroup.state.in_(("declaring", "declared")),
        )
        .order_by(AlertGroup.id.desc())
        .limit(1)
    ).one_or_none()
    if storm is not None and storm.incident_id is not None and not _incident_open(session, storm.incident_id):
        storm = None
    if storm is None:
        key = f"storm:{group.source}:{now.isoformat()}:{group.id}"
        storm = AlertGroup(
            **{
                **_new_group(group.source, digest(key), AlertEvent(alert={"group_key": key}), now),
                "title": _("Alert storm from {source}", source=group.source),
                "is_storm": True,
                "state": "declaring",
                "mode": "auto",
                "severity": group.severity,
                "activation": 1,
                "activated_at": now,
                "detail": {
                    "source": group.source,
                    "summary": _("Many alert groups at once; each is listed here."),
                },
            }
        )
        session.add(storm)
        session.flush()
    elif group.severity and storm.severity and group.severity < storm.severity:
        storm.severity = group.severity  # p0 < p1: the storm is as severe as its worst member
    group.state, group.storm_id = "stormed", storm.id
    storm.repeats += 1
    mark_dirty(storm, now)
    metrics.group_outcome(group.source, "stormed")
    return storm.id


def _storm_member_resolved(session: Session, group: AlertGroup, now: datetime) -> set[int]:
    storm = session.get(AlertGroup, group.storm_id)
    if storm is None:
        return set()
    firing = session.scalar(
        select(func.count())
        .select_from(AlertGroup)
        .where(AlertGroup.storm_id == storm.id, AlertGroup.status == "firing", AlertGroup.id != group.id)
    )
    if not firing:
        storm.status, storm.resolved_at, storm.resolution_told = "resolved", now, False
    mark_dirty(storm, now)
    return {storm.id}


# ----------------------------------------------------------------------------- people and timers
def _locked(session: Session, group_id: int) -> AlertGroup:
    query = select(AlertGroup).where(AlertGroup.id == group_id)
    if is_pg(session):
        query = query.with_for_update()
    group = session.scalars(query).one_or_none()
    if group is None:
        raise AlertError(_("There is no alert group {id}.", id=group_id))
    return group


def decide_proposal(
    runtime: Runtime, group_id: int, actor: str, *, declare: bool, severity: str | None = None
) -> str:
    """Declare or Dismiss on a proposal; the first answer wins, later clicks are told what happened."""
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)
        group = _locked(session, group_id)
        if group.state not in ("proposing", "proposed"):
            if group.decided_by:
                raise AlertError(
                    _(
                        "This alert was already answered ({state} by {who}); nothing changed.",
                        state=alert_state_name(group.state),
                        who=group.decided_by,
                    )
                )
            raise AlertError(
                _(
                    "This alert was already answered ({state}); nothing changed.",
                    state=alert_state_name(group.state),
                )
            )
        if declare:
            if severity is not None:
                group.severity = severity
            group.state = "declaring"
        else:
            group.state = "dismissed"
            metrics.group_outcome(group.source, "dismissed")
        group.decided_by, group.confirm_at = actor, None
        mark_dirty(group, now)
        return group.state


def confirm_due(runtime: Runtime) -> set[int]:
    """Proposals nobody answered within confirm_within: declared anyway, once whatever the replicas."""
    now = runtime.clock.now()
    with runtime.session() as session:
        if session.scalar(select(AlertGroup.id).where(AlertGroup.confirm_at <= now).limit(1)) is None:
            return set()  # the usual case, found without taking a write lock
    with runtime.session() as session:
        write_lock(session)
        query = (
            select(AlertGroup)
            .where(
                AlertGroup.confirm_at <= now,
                AlertGroup.state.in_(("proposing", "proposed")),
                AlertGroup.status == "firing",  # resolved before anyone answered: nothing to declare
            )
            .order_by(AlertGroup.confirm_at)
            .limit(BATCH)
        )
        if is_pg(session):
            query = query.with_for_update(skip_locked=True)
        due = list(session.scalars(query))
        for group in due:
            group.state, group.decided_by, group.confirm_at = "declaring", "timer", None
            mark_dirty(group, now)
        return {group.id for group in due}
