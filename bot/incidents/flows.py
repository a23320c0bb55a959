"""Incident flows: a lifecycle change on the database, then the war room told through the ports.

Order matters (SPEC §2): the row first, then the channel, then invites, summary, checklist and
announcement in parallel, then the first page. A step that fails is reported and recorded on the
timeline; it never undoes the steps before it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot import metrics
from bot.escalation import service as escalation
from bot.incidents import service
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event
from bot.incidents.views import IncidentView
from bot.ports import ChatError
from bot.runtime import Runtime

log = logging.getLogger(__name__)
REPEAT_WINDOW = timedelta(minutes=2)


@dataclass
class DeclareResult:
    incident: IncidentView
    created: bool
    problems: list[str] = field(default_factory=list)


def _find_repeat(runtime: Runtime, severity: str, title: str, reporter_id: str) -> int | None:
    """The same person declaring the same thing twice within two minutes means a double submit."""
    since = runtime.clock.now() - REPEAT_WINDOW
    with runtime.session() as session:
        return session.scalar(
            select(Incident.id).where(
                Incident.reporter_id == reporter_id,
                Incident.title == " ".join(title.split()),
                Incident.severity == severity.lower(),
                Incident.declared_at >= since,
            )
        )


def declare(
    runtime: Runtime,
    *,
    severity: str,
    title: str,
    reporter_id: str,
    origin_channel_id: str | None,
    request_key: str | None,
    dedupe_repeats: bool = True,
) -> DeclareResult:
    """`dedupe_repeats=False` for declarations by machines (alerts): their request_key is the dedupe."""
    now = runtime.clock.now()
    service.validate_severity(severity)
    service.validate_title(title)
    repeat = _find_repeat(runtime, severity, title, reporter_id) if dedupe_repeats else None
    with runtime.session() as session:
        if repeat is not None:
            incident = session.get(Incident, repeat)
            assert incident is not None
            return DeclareResult(service.view(session, incident), created=False)
        incident, created = service.declare(
            session,
            runtime.policy,
            severity=severity,
            title=title,
            reporter_id=reporter_id,
            origin_channel_id=origin_channel_id,
            now=now,
            request_key=request_key,
        )
        incident_id = incident.id
        if not created:
            return DeclareResult(service.view(session, incident), created=False)
    metrics.observe_declared(severity)

    problems: list[str] = []
    channel_id, name = _create_channel(runtime, incident_id, title, now, problems)
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incident.channel_id, incident.channel_name = channel_id, name
        view = service.view(session, incident, runtime.policy)

    if channel_id:
        _set_up_room(runtime, view, problems)

    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incident.setup_errors = problems
        for problem in problems:
            add_event(session, incident_id, EventKind.SETUP_ERROR, BOT_ACTOR, problem)
        # The first page comes last: it links to the channel and invites the paged people into it.
        # Without a channel people must still be reached, so the ladder starts either way.
        escalation.start(session, incident, now)
        view = service.view(session, incident, runtime.policy)
    return DeclareResult(view, created=True, problems=problems)


def _create_channel(
    runtime: Runtime, incident_id: int, title: str, now, problems: list[str]
) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    for suffix in (0, *range(2, 21)):  # the second channel of that name is -2, as people number them
        name = service.channel_name(incident_id, now, title, suffix)
        try:
            return runtime.warroom.create_channel(name), name
        except ChatError as exc:
            if exc.code == "name_taken":
                continue
            problems.append(f"Could not create the channel {name}: {exc.code}")
            return None, None
    problems.append("Could not create the channel: every name was taken")
    return None, None


def _set_up_room(runtime: Runtime, view: IncidentView, problems: list[str]) -> None:
    assert view.channel_id is not None
    channel_id = view.channel_id

    def summary() -> str:
        posted = runtime.warroom.post_summary(view)
        runtime.warroom.pin(channel_id, posted.ts)
        return posted.ts

    steps: dict[str, Callable[[], object]] = {
        "invite the reporter": lambda: runtime.warroom.invite(channel_id, [view.reporter_id]),
        "post the summary": summary,
        "post the checklist": lambda: runtime.warroom.post_checklist(view).ts,
    }
    if runtime.policy.announce_channel:
        announce_to = runtime.policy.announce_channel
        steps["announce in the announcements channel"] = lambda: runtime.warroom.announce(announce_to, view)
    futures: dict[str, Future[object]] = {name: runtime.executor.submit(step) for name, step in steps.items()}
    results: dict[str, object] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=60)
        except ChatError as exc:
            problems.append(f"Could not {name}: {exc.code}")
        except Exception as exc:
            log.exception("declare step failed", extra={"incident_id": view.id, "step": name})
            problems.append(f"Could not {name}: {exc}")
    with runtime.session() as session:
        incident = session.get(Incident, view.id)
        assert incident is not None
        incident.summary_ts = results.get("post the summary")  # type: ignore[assignment]
        incident.checklist_ts = results.get("post the checklist")  # type: ignore[assignment]


def current_view(runtime: Runtime, incident_id: int) -> IncidentView:
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"There is no incident INC-{incident_id}.")
        return service.view(session, incident)


def refresh_summary(runtime: Runtime, view: IncidentView) -> None:
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
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"There is no incident INC-{incident_id}.")
        result = apply(session, incident, actor, now)
        if stop_reason:
            escalation.stop(session, incident_id, stop_reason, now)
        incident = session.get(Incident, incident_id)
        assert incident is not None
        view = service.view(session, incident)
    refresh_summary(runtime, view)
    _tell(runtime, view, result.message)
    runtime.fire(change, incident_id, actor)
    return view


def set_severity(runtime: Runtime, incident_id: int, actor: str, severity: str) -> IncidentView:
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"There is no incident INC-{incident_id}.")
        result = service.set_severity(session, runtime.policy, incident, severity, actor, now)
        view = service.view(session, incident)
    refresh_summary(runtime, view)
    _tell(runtime, view, result.message)
    return view


def assign_role(runtime: Runtime, incident_id: int, actor: str, role: str, user_id: str) -> IncidentView:
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(f"There is no incident INC-{incident_id}.")
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
            raise IncidentError(f"There is no incident INC-{incident_id}.")
        event = service.add_note(session, incident, kind, text, actor, now, link=link, dedupe_key=dedupe_key)
        view = service.view(session, incident)
    if event is not None and kind == EventKind.STATUS_UPDATE:
        refresh_summary(runtime, view)
        # The stored text: cleaned and masked like the timeline, not what was typed.
        _tell(runtime, view, f":mega: *Status update* from <@{actor}>: {event.text}")
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
            raise IncidentError(f"There is no incident INC-{incident_id}.")
        service.tick_checklist(session, incident, position, actor, now)
        view = service.view(session, incident)
    try:
        runtime.warroom.update_checklist(view)
    except ChatError as exc:
        log.warning("checklist update failed: %s", exc.code)
    return view
