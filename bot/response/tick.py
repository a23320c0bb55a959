"""The response clock's tick: due timer rows claimed exactly once, sent outside any transaction.

1. claim — one transaction: due rows (pending and due, or 'sending' past the lease: the process that
   claimed them died) FOR UPDATE SKIP LOCKED, under the SQLite write lock; a row no longer wanted
   (the step ticked, the incident resolved) is cancelled; the rest become 'sending', claimed by us.
2. send — the room nudge or the reminder, through the ResponseClockPort.
3. record — 'sent' only if the claim is still ours, in the same transaction as the timeline entry,
   the checklist item's nudge mark and the next status reminder; then the summary and checklist
   are updated. A send that failed goes back to 'pending' with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.db.locks import claim_lease, write_lock
from bot.i18n import N_
from bot.incidents import service as incidents
from bot.incidents.models import ChecklistItem, Incident
from bot.incidents.views import IncidentView
from bot.ports import ChatError
from bot.response import timers
from bot.response.models import ResponseTimer
from bot.response.steps import AFTER_RESOLVE, NAMES

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
BATCH = 50
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    step: str
    seq: int
    due_at: datetime
    attempts: int
    incident: IncidentView
    quiet_since: datetime


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(60, 2**attempt))


def _wanted(session: Session, row: ResponseTimer, incident: Incident) -> bool:
    if row.kind == timers.STATUS:
        return incident.status != "resolved"
    if incident.status == "resolved" and row.step not in AFTER_RESOLVE:
        return False
    item = session.scalar(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident.id, ChecklistItem.step == row.step)
    )
    return item is not None and item.done_at is None


def claim(runtime: Runtime, now: datetime) -> list[Claimed]:
    with runtime.session() as session:
        write_lock(session)
        due = or_(
            and_(ResponseTimer.status == "pending", ResponseTimer.due_at <= now),
            and_(ResponseTimer.status == "sending", ResponseTimer.claimed_at < now - claim_lease(runtime)),
        )
        rows = session.scalars(
            select(ResponseTimer)
            .where(due)
            .order_by(ResponseTimer.due_at, ResponseTimer.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        claimed = []
        for row in rows:
            incident = session.get(Incident, row.incident_id)
            if incident is None or not _wanted(session, row, incident):
                row.status = "cancelled"
                continue
            row.status, row.claimed_at, row.claimed_by = "sending", now, runtime.worker_id
            row.attempts += 1
            claimed.append(
                Claimed(
                    row.id,
                    row.kind,
                    row.step,
                    row.seq,
                    row.due_at,
                    row.attempts,
                    incidents.view(session, incident),
                    timers.last_quiet_start(session, incident) if row.kind == timers.STATUS else row.due_at,
                )
            )
    return claimed


def send(runtime: Runtime, item: Claimed, now: datetime) -> str:
    """Tell the room (a step) or the commander (a reminder); returns who was told."""
    port = runtime.response_clock
    if port is None:
        raise ChatError("no_port")
    view = item.incident
    if item.kind == timers.STEP:
        if not view.channel_id:
            raise ChatError("no_channel")  # the room is still being set up: tried again shortly
        budget = item.due_at - view.declared_at
        port.nudge_step(view, item.step, now - item.due_at, budget)
        return view.channel_id
    to = view.commander_id or view.channel_id
    if not to:
        raise ChatError("no_channel")
    port.remind_status(to, view, now - item.quiet_since)
    return to


def record(runtime: Runtime, item: Claimed, now: datetime, sent_to: str | None, error: str | None) -> bool:
    """Write the outcome if the claim is still ours; True when this call recorded a send."""
    with runtime.session() as session:
        write_lock(session)
        row = session.get(ResponseTimer, item.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != "sending" or row.claimed_by != runtime.worker_id:
            return False  # taken over after our lease ran out: the new holder records
        row.claimed_at = row.claimed_by = None
        if error is not None:
            row.error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.status, row.due_at = "pending", now + backoff(row.attempts)
            return False
        row.status, row.sent_at, row.sent_to, row.error = "sent", now, sent_to, None
        incident = session.get(Incident, row.incident_id)
        assert incident is not None
        if item.kind == timers.STEP:
            _record_nudge(session, incident, item, now)
        else:
            _record_reminder(session, incident, item, now, sent_to or "")
            policy = timers.policy_of(incident, runtime.policy)
            timers.arm_after_reminder(session, incident, policy, now)
    return True


def _record_nudge(session: Session, incident: Incident, item: Claimed, now: datetime) -> None:
    checklist = session.scalar(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident.id, ChecklistItem.step == item.step)
    )
    if checklist is not None and checklist.nudged_at is None:
        checklist.nudged_at = now
    timers.clock_event(
        session,
        incident.id,
        now,
        N_("⏰ {step} is overdue: still open {over} past its {budget} budget"),
        ("step",) if item.step in NAMES else (),
        data={
            "step": item.step,
            "due_at": item.due_at.isoformat(),
            "over_seconds": int((now - item.due_at).total_seconds()),
        },
        dedupe_key=f"step-overdue:{item.step}",
        step=NAMES.get(item.step, item.step),
        over=timers.format_over(now - item.due_at),
        budget=timers.format_over(item.due_at - incident.declared_at),
    )


def _record_reminder(session: Session, incident: Incident, item: Claimed, now: datetime, to: str) -> None:
    person = to.startswith(("U", "W"))
    timers.clock_event(
        session,
        incident.id,
        now,
        N_("Status reminder sent to {who}: no status update for {quiet}"),
        () if person else ("who",),
        data={"reminder": item.seq, "to": to},
        dedupe_key=f"status-reminder:{item.seq}",
        who=f"<@{to}>" if person else N_("the room"),
        quiet=timers.format_over(now - item.quiet_since),
    )


def _refresh(runtime: Runtime, incident_id: int) -> None:
    """The ⏰ on the pinned summary and the checklist."""
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return
        view = incidents.view(session, incident)
    for update_message in (runtime.warroom.update_summary, runtime.warroom.update_checklist):
        try:
            update_message(view)
        except ChatError as exc:
            log.warning("overdue mark not shown: %s", exc.code, extra={"incident_id": incident_id})


def run_due(runtime: Runtime) -> int:
    """Everything due at the clock's now; returns how many nudges and reminders were sent."""
    if runtime.stopping.is_set():
        return 0
    sent = 0
    while True:
        claimed = claim(runtime, runtime.clock.now())
        if not claimed:
            return sent
        for item in claimed:
            now = runtime.clock.now()
            try:
                to, error = send(runtime, item, now), None
            except ChatError as exc:
                to, error = None, exc.code
                log.warning(
                    "response clock %s not sent: %s",
                    item.kind,
                    exc.code,
                    extra={"incident_id": item.incident.id},
                )
            if record(runtime, item, runtime.clock.now(), to, error):
                sent += 1
                if item.kind == timers.STEP:
                    _refresh(runtime, item.incident.id)
        if len(claimed) < BATCH:
            return sent


def tick(runtime: Runtime) -> int:
    return run_due(runtime)
