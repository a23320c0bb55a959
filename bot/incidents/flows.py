"""Incident flows: a lifecycle change on the database, then the war room told through the ports.

Declaring (SPEC §2) writes the incident, its escalation state and its set-up steps in one
transaction, then runs the set-up (bot.incidents.setup): the channel, then invites, summary,
checklist and announcement side by side. The first page does not wait for any of it. A step that
fails for good is reported and recorded on the timeline; one that fails for now is retried.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import metrics
from bot.db.locks import declare_lock, write_lock
from bot.escalation import service as escalation
from bot.i18n import _, default_language, use_language
from bot.incidents import service, setup, setup_notices, setup_steps
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.timeline import EventKind
from bot.incidents.views import IncidentView
from bot.ports import ChatError
from bot.response import timers as response_timers
from bot.runtime import Runtime
from bot.security import types

log = logging.getLogger(__name__)
REPEAT_WINDOW = timedelta(minutes=2)
SETUP_WAIT = 5.0  # how long the declarer's answer waits for the war room before saying "being set up"


@dataclass
class DeclareResult:
    incident: IncidentView
    created: bool
    problems: list[str] = field(default_factory=list)
    # Set-up steps not finished when the declarer is answered (human labels): "the room is being set up".
    pending: list[str] = field(default_factory=list)


def _find_repeat(
    session: Session, now: datetime, severity: str, title: str, reporter_id: str, drill: bool = False
) -> Incident | None:
    """The same person declaring the same thing twice within two minutes means a double submit."""
    return session.scalar(
        select(Incident)
        .where(
            Incident.reporter_id == reporter_id,
            Incident.title == " ".join(title.split()),
            Incident.severity == severity.lower(),
            Incident.declared_at >= now - REPEAT_WINDOW,
            Incident.is_drill.is_(drill),  # a drill of the same title is no double submit of a real one
        )
        .order_by(Incident.id)
        .limit(1)
    )


def _open(
    runtime: Runtime,
    now: datetime,
    *,
    severity: str,
    title: str,
    reporter_id: str,
    origin_channel_id: str | None,
    request_key: str | None,
    dedupe_repeats: bool = True,
    drill: bool = False,
    incident_type: str | None = None,
) -> tuple[int, bool]:
    """One transaction: the incident, its escalation state (tier 1 due now) and its set-up rows.

    Under a per-reporter lock, so replays and identical declarations sent at once find the first.
    """
    with runtime.session() as session:
        declare_lock(session, reporter_id)
        if request_key:
            existing = session.scalar(select(Incident.id).where(Incident.request_key == request_key))
            if existing is not None:
                return existing, False
        repeat = _find_repeat(session, now, severity, title, reporter_id, drill) if dedupe_repeats else None
        if repeat is not None:
            return repeat.id, False
        policy = types.policy_for(runtime.policy, incident_type)  # the type's desk, snapshotted
        incident, _ = service.declare(
            session,
            policy,
            severity=severity,
            title=title,
            reporter_id=reporter_id,
            origin_channel_id=origin_channel_id,
            now=now,
            request_key=request_key,
            drill=drill,
        )
        types.apply(session, incident, runtime.policy, incident_type)
        # From this commit on there is a ladder for an ack to stop, and nothing waits for Slack.
        escalation.start(session, incident, now)
        response_timers.plan(session, incident, runtime.policy)  # step nudges, the first status reminder
        setup.plan(session, incident.id, setup.steps_for(runtime.policy), now + setup.HANDOFF)
        return incident.id, True


def declare(
    runtime: Runtime,
    *,
    severity: str,
    title: str,
    reporter_id: str,
    origin_channel_id: str | None,
    request_key: str | None,
    wait: float = SETUP_WAIT,
    dedupe_repeats: bool = True,
    drill: bool = False,
    incident_type: str | None = None,
) -> DeclareResult:
    """Declare an incident; the domain entry point for slash commands, the modal and alerts.

    `dedupe_repeats=False` for declarations by machines (alerts): their request_key is the dedupe.

    Returns once the war room is set up, or after `wait` seconds with what is still pending; the
    rest is finished by the set-up tick and the declarer told when it lands.
    """
    now = runtime.clock.now()
    service.validate_severity(severity)
    service.validate_title(title)
    fields = dict(
        severity=severity,
        title=title,
        reporter_id=reporter_id,
        origin_channel_id=origin_channel_id,
        request_key=request_key,
        dedupe_repeats=dedupe_repeats,
        drill=drill,
        incident_type=incident_type,
    )
    try:
        incident_id, created = _open(runtime, now, **fields)  # type: ignore[arg-type]
    except IntegrityError:  # the same request_key committed by a concurrent writer: it is ours
        incident_id, created = _open(runtime, now, **fields)  # type: ignore[arg-type]
    if created:
        if not drill:  # drills never count in metrics
            metrics.observe_declared(severity)
        run = runtime.submit(setup.run_incident, runtime, incident_id, True)
        # Still going after `wait`: the declarer hears "being set up" now and "ready" later.
        with contextlib.suppress(FutureTimeout):
            run.result(timeout=wait)
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        view = service.view(session, incident, runtime.policy)
        state = setup_notices.progress(session, incident_id)
    pending = [setup_steps.LABELS[s] for s in state.open]
    if created and pending and wait > 0:  # wait=0: nobody is answered, so nobody was told it is late
        setup_notices.mark_late(runtime, incident_id)
    return DeclareResult(view, created=created, problems=list(incident.setup_errors or []), pending=pending)


def current_view(runtime: Runtime, incident_id: int) -> IncidentView:
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        return service.view(session, incident)


def refresh_summary(runtime: Runtime, view: IncidentView) -> None:
    if view.summary_ts is None:
        # Not posted yet (set-up late or in flight): the set-up step shows this change rather than
        # it being skipped — unless the step recorded its message since `view` was read.
        with runtime.session() as session:
            write_lock(session)
            incident = session.get(Incident, view.id, with_for_update=True, populate_existing=True)
            assert incident is not None
            if incident.summary_ts is None:
                setup.mark_stale(session, view.id, runtime.clock.now())
                log.info(
                    "summary not posted yet; its set-up step will show this", extra={"incident_id": view.id}
                )
                return
            view = service.view(session, incident)
    try:
        runtime.warroom.update_summary(view)
    except ChatError as exc:
        log.warning("summary update failed: %s", exc.code, extra={"incident_id": view.id})


def _tell(runtime: Runtime, view: IncidentView, text: str) -> None:
    if view.channel_id:
        try:
            runtime.warroom.notify(view.channel_id, text)
        except ChatError as exc:
            log.warning("channel notice failed: %s", exc.code, extra={"incident_id": view.id})


LIFECYCLE: dict[str, tuple[Callable[..., service.Change], str | None]] = {
    "acknowledged": (service.acknowledge, "acknowledged"),
    "mitigated": (service.mitigate, "mitigated"),
    "resolved": (service.resolve, "resolved"),
    "reopened": (service.reopen, None),
}


def change_status(runtime: Runtime, incident_id: int, actor: str, change: str) -> IncidentView:
    """ack / mitigated / resolve / reopen. Escalation stops in the same transaction as the change."""
    apply, stop_reason = LIFECYCLE[change]
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)  # two people acking at once on SQLite: the second sees the first
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        result = apply(session, incident, actor, now)
        if stop_reason:
            escalation.stop(session, incident_id, stop_reason, now)
        incident = session.get(Incident, incident_id)
        assert incident is not None
        if change == "resolved":
            response_timers.resolved(session, incident_id)
        elif change == "reopened":
            response_timers.reopened(
                session, incident, response_timers.policy_of(incident, runtime.policy), now
            )
        view = service.view(session, incident)
    if not view.drill:  # drills never count in metrics
        at = {"acknowledged": view.acknowledged_at, "mitigated": view.mitigated_at}.get(
            change, view.resolved_at
        )
        metrics.observe_response(change, view.severity, view.declared_at, at)
    refresh_summary(runtime, view)
    _tell(runtime, view, result.message)
    runtime.fire(change, incident_id, actor)
    return view


def set_severity(runtime: Runtime, incident_id: int, actor: str, severity: str) -> IncidentView:
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        result = service.set_severity(session, runtime.policy, incident, severity, actor, now)
        escalation.follow_severity(session, incident, now)
        response_timers.severity_changed(
            session, incident, response_timers.policy_of(incident, runtime.policy)
        )
        view = service.view(session, incident)
    refresh_summary(runtime, view)
    _tell(runtime, view, result.message)
    return view


def assign_role(runtime: Runtime, incident_id: int, actor: str, role: str, user_id: str) -> IncidentView:
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        result = service.assign_role(session, runtime.policy, incident, role, user_id, actor, now)
        view = service.view(session, incident)
    try:
        runtime.warroom.invite(view.channel_id or "", [user_id])
    except ChatError as exc:
        log.warning("invite failed: %s", exc.code)
    refresh_summary(runtime, view)
    _tell(runtime, view, result.message)
    return view


def add_entry(
    runtime: Runtime,
    incident_id: int,
    actor: str,
    kind: EventKind,
    text: str,
    *,
    link: str | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """A note, a status update, a pinned or :pushpin: message. False when it was already recorded."""
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        event = service.add_note(session, incident, kind, text, actor, now, link=link, dedupe_key=dedupe_key)
        if event is not None and kind == EventKind.STATUS_UPDATE:  # the next reminder a full interval away
            response_timers.status_posted(
                session, incident, response_timers.policy_of(incident, runtime.policy), now
            )
        view = service.view(session, incident)
    if event is not None and kind == EventKind.STATUS_UPDATE:
        refresh_summary(runtime, view)
        # The stored text: cleaned and masked like the timeline, not what was typed.
        with use_language(default_language()):  # the room's language, not the author's
            said = _(":mega: *Status update* from {who}: {text}", who=f"<@{actor}>", text=event.text)
        _tell(runtime, view, said)
    return event is not None


def record_message(runtime: Runtime, channel_id: str, ts: str, actor: str, kind: EventKind) -> bool:
    """A message pinned or given :pushpin: in an incident channel goes on the timeline once."""
    with runtime.session() as session:
        incident = service.by_channel(session, channel_id)
        if incident is None:
            return False
        incident_id = incident.id
    text, link = runtime.warroom.message_text(channel_id, ts)
    # One key for both pin and :pushpin:, so the same message is recorded once whichever came first.
    return add_entry(
        runtime, incident_id, actor, kind, text or "(message without text)", link=link, dedupe_key=f"msg:{ts}"
    )


def tick_checklist(runtime: Runtime, incident_id: int, position: int, actor: str) -> IncidentView:
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{incident_id}"))
        service.tick_checklist(session, incident, position, actor, now)
        view = service.view(session, incident)
    try:
        runtime.warroom.update_checklist(view)
    except ChatError as exc:
        log.warning("checklist update failed: %s", exc.code)
    return view
