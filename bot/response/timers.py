"""Arming the response clock's timers: at the declaration, on a checklist tick, a status update,
a resolve, a reopen and a severity change. Pure domain: a session, an incident, a time.

Decisions (docs/response-clock.md):
- step budgets count from the declaration; a step with `budget: null` has no timer;
- a step ticked before its budget cancels its nudge; unticked again, the nudge is armed again (it
  is still sent at most once per step);
- the resolve stops every step nudge but the review's (the review follows the resolve) and the
  status reminders; a reopen re-arms both;
- status reminders run while the incident is open, acknowledged and mitigated included: people
  outside the room still want to hear how it goes until it is resolved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config.durations import format_duration
from bot.config.policy import Policy
from bot.i18n import N_
from bot.incidents.models import ChecklistItem, Incident, TimelineEvent
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, said
from bot.response.models import ResponseTimer
from bot.response.steps import AFTER_RESOLVE, NAMES, STEP_KEYS

STEP, STATUS = "step", "status"


def plan(session: Session, incident: Incident, policy: Policy) -> None:
    """At the declaration, in its transaction: each budgeted step's nudge and the first reminder."""
    items = {
        i.step: i
        for i in session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == incident.id))
    }
    for key in STEP_KEYS:
        budget = policy.response_steps.budget(key)
        if budget is None or key not in items:  # no clock, or a checklist of other steps (security)
            continue
        due = incident.declared_at + budget
        if key in items:
            items[key].due_at = due
        session.add(ResponseTimer(incident_id=incident.id, kind=STEP, step=key, seq=0, due_at=due))
    _arm_status(session, incident, policy, incident.declared_at)
    session.flush()


def _next_seq(session: Session, incident_id: int) -> int:
    last = session.scalar(
        select(func.max(ResponseTimer.seq)).where(
            ResponseTimer.incident_id == incident_id, ResponseTimer.kind == STATUS
        )
    )
    return 0 if last is None else int(last) + 1


def _cancel_status(session: Session, incident_id: int) -> None:
    session.execute(
        update(ResponseTimer)
        .where(
            ResponseTimer.incident_id == incident_id,
            ResponseTimer.kind == STATUS,
            ResponseTimer.status == "pending",
        )
        .values(status="cancelled")
    )


def _arm_status(session: Session, incident: Incident, policy: Policy, quiet_since: datetime) -> None:
    """The next status reminder, `interval` after `quiet_since` (none for a severity without one)."""
    _cancel_status(session, incident.id)
    interval = policy.status_reminders.interval(incident.severity)
    if interval is None or incident.status == "resolved":
        return
    session.add(
        ResponseTimer(
            incident_id=incident.id,
            kind=STATUS,
            step="",
            seq=_next_seq(session, incident.id),
            due_at=quiet_since + interval,
        )
    )
    session.flush()


def last_quiet_start(session: Session, incident: Incident) -> datetime:
    """Since when nobody has posted a status update: the last update, reminder, reopen or the declaration."""
    update_at = session.scalar(
        select(func.max(TimelineEvent.at)).where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.kind.in_([EventKind.STATUS_UPDATE.value, EventKind.REOPENED.value]),
        )
    )
    reminded_at = session.scalar(
        select(func.max(ResponseTimer.sent_at)).where(
            ResponseTimer.incident_id == incident.id, ResponseTimer.kind == STATUS
        )
    )
    found = [t for t in (incident.declared_at, update_at, reminded_at) if t is not None]
    return max(found)


def status_posted(session: Session, incident: Incident, policy: Policy, now: datetime) -> None:
    """A status update: the next reminder moves to a full interval from now."""
    _arm_status(session, incident, policy, now)


def severity_changed(session: Session, incident: Incident, policy: Policy) -> None:
    """The new severity's interval, counted from the last update (or reminder)."""
    _arm_status(session, incident, policy, last_quiet_start(session, incident))


def resolved(session: Session, incident_id: int) -> None:
    _cancel_status(session, incident_id)
    session.execute(
        update(ResponseTimer)
        .where(
            ResponseTimer.incident_id == incident_id,
            ResponseTimer.kind == STEP,
            ResponseTimer.status == "pending",
            ResponseTimer.step.not_in(AFTER_RESOLVE),
        )
        .values(status="cancelled")
    )


def reopened(session: Session, incident: Incident, policy: Policy, now: datetime) -> None:
    """Steps still open are on the clock again (a nudge not sent yet); reminders from now."""
    open_steps = select(ChecklistItem.step).where(
        ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_(None)
    )
    session.execute(
        update(ResponseTimer)
        .where(
            ResponseTimer.incident_id == incident.id,
            ResponseTimer.kind == STEP,
            ResponseTimer.status == "cancelled",
            ResponseTimer.step.in_(open_steps),
        )
        .values(status="pending")
    )
    _arm_status(session, incident, policy, now)


def step_ticked(session: Session, incident: Incident, item: ChecklistItem, done: bool, now: datetime) -> None:
    """Done before the budget: no nudge. Done after it: how late is stored and on the timeline.
    Undone: lateness forgotten, and the nudge armed again if it has not gone out."""
    if item.step is None:
        return
    timer = session.scalar(
        select(ResponseTimer).where(
            ResponseTimer.incident_id == incident.id,
            ResponseTimer.kind == STEP,
            ResponseTimer.step == item.step,
        )
    )
    if not done:
        item.late_seconds = None
        if timer is not None and timer.status == "cancelled":
            timer.status = "pending"
        return
    if timer is not None and timer.status == "pending":
        timer.status = "cancelled"
    if item.due_at is None or now <= item.due_at:
        return
    late = now - item.due_at
    item.late_seconds = int(late.total_seconds())
    budget = item.due_at - incident.declared_at
    clock_event(
        session,
        incident.id,
        now,
        N_("{step} done {late} late (budget {budget} from the declaration)"),
        ("step",),
        data={
            "step": item.step,
            "late_seconds": item.late_seconds,
            "budget_seconds": int(budget.total_seconds()),
        },
        step=NAMES[item.step],
        late=format_over(late),
        budget=format_over(budget),
    )


def clock_event(
    session: Session,
    incident_id: int,
    now: datetime,
    msgid: str,
    translated: tuple[str, ...] = (),
    *,
    data: dict[str, Any],
    dedupe_key: str | None = None,
    **values: str,
) -> None:
    """A response-clock line on the timeline, by the bot.

    Stored in English with what renders it again: the timeline and the postmortem in their language."""
    text, spoken = said(msgid, translated, **values)
    add_event(
        session,
        incident_id,
        EventKind.RESPONSE_CLOCK,
        BOT_ACTOR,
        text,
        data={**data, **spoken},
        dedupe_key=dedupe_key,
        at=now,
    )


def format_over(delta: timedelta) -> str:
    """Seconds only under an hour: "3m 12s" for a nudge, "2d 4h" for the review."""
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        seconds -= seconds % 60
    return format_duration(timedelta(seconds=seconds))


def arm_after_reminder(session: Session, incident: Incident, policy: Policy, now: datetime) -> None:
    """Still no update after a reminder: the next one a full interval later."""
    _arm_status(session, incident, policy, now)


def policy_of(incident: Incident, fallback: Policy) -> Policy:
    """The policy the incident was declared under (SPEC §4), or the live one if it cannot be read."""
    try:
        return Policy.model_validate(incident.policy_snapshot or {})
    except ValueError:
        return fallback
