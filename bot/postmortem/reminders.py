"""The review deadline (the guide's 故障总结 within 3 days) as a durable timer row.

A `ReviewReminder` row is the timer: `next_at` is when the commander is reminded next. The
scheduler calls `tick()` every second in every replica; each due row is claimed with
`SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer and ignores the clause),
the DM is sent, and `next_at` moves to the next daily slot in the same transaction. The slot is
computed from `due_at`, so a bot that was down for days sends one reminder when it comes back,
not one per missed day, and the cadence stays at the same time of day.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.config.durations import format_duration
from bot.config.policy import Policy
from bot.i18n import _
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event
from bot.ports import ChatError
from bot.postmortem.content import policy_of
from bot.postmortem.models import ReviewReminder
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # a DM that failed (Slack down) is tried again this much later
BATCH = 100  # reminders per tick at most; the next tick takes the rest


def next_slot(due_at: datetime, every: timedelta, now: datetime) -> datetime:
    """The first of due_at, due_at + every, due_at + 2·every, … that is after `now`."""
    if now < due_at:
        return due_at
    periods = int((now - due_at) / every) + 1
    return due_at + periods * every


def start(session: Session, incident: Incident, policy: Policy, now: datetime) -> ReviewReminder:
    """(Re)start the review timer at resolve: due `review_within` after the resolve."""
    resolved_at = incident.resolved_at or now
    due = resolved_at + policy.postmortem.review_within
    row = session.get(ReviewReminder, incident.id, with_for_update=True)
    if row is None:
        row = ReviewReminder(incident_id=incident.id, due_at=due, next_at=due, reminders_sent=0)
        session.add(row)
    elif row.done_at is None:
        row.due_at, row.next_at, row.reminders_sent = due, due, 0
    else:
        return row  # reviewed already: a second resolve hook call must not restart it
    session.flush()
    add_event(
        session,
        incident.id,
        EventKind.REVIEW,
        BOT_ACTOR,
        f"Postmortem review due by {due:%Y-%m-%d %H:%M} UTC",
        data={"due_at": due.isoformat()},
        dedupe_key=f"review-due:{resolved_at.isoformat()}",
        at=now,
    )
    return row


def stop(session: Session, incident_id: int) -> None:
    """Reopened: no review is due until the next resolve, which starts a fresh timer."""
    row = session.get(ReviewReminder, incident_id, with_for_update=True)
    if row is not None:
        session.delete(row)
        session.flush()


def mark_done(session: Session, incident: Incident, actor: str, now: datetime) -> ReviewReminder:
    if incident.status != "resolved":
        raise IncidentError(
            f"INC-{incident.id} is {incident.status}; the review follows the resolve. "
            "`/incident resolve` first, then `/incident review done` once the postmortem is reviewed."
        )
    row = session.get(ReviewReminder, incident.id, with_for_update=True)
    if row is None:  # resolved before this feature, or the hook did not run
        row = ReviewReminder(incident_id=incident.id, due_at=now, reminders_sent=0)
        session.add(row)
    elif row.done_at is not None:
        raise IncidentError(
            f"The review of INC-{incident.id} was already marked done by <@{row.done_by}> "
            f"on {row.done_at:%Y-%m-%d %H:%M} UTC. Nothing changed."
        )
    row.done_at, row.done_by, row.next_at = now, actor, None
    session.flush()
    add_event(session, incident.id, EventKind.REVIEW, actor, "Postmortem review done", at=now)
    return row


def reminder_text(incident: Incident, row: ReviewReminder, now: datetime, review_within: timedelta) -> str:
    late = now - row.due_at
    days = int(late / timedelta(days=1))
    overdue = f"{days} day{'s' if days != 1 else ''} overdue" if days >= 1 else "due now"
    where = f"<#{incident.channel_id}>" if incident.channel_id else f"INC-{incident.id}'s channel"
    # A DM is outside the room: a private incident's title stays in it (SPEC §13).
    title = _("restricted incident") if incident.private else incident.title
    # Plain domain text: the DM port escapes it for Slack at the edge.
    return (
        f":memo: The postmortem review of *INC-{incident.id}* ({title}) is {overdue} "
        f"(due {row.due_at:%Y-%m-%d %H:%M} UTC, {format_duration(review_within)} after the resolve). "
        f"Go through the draft with the team — root cause, improvements, prevention, action items — "
        f"then type `/incident review done` in {where}."
    )


def _claim(session: Session, now: datetime) -> ReviewReminder | None:
    query = (
        select(ReviewReminder)
        .where(
            ReviewReminder.done_at.is_(None),
            ReviewReminder.next_at.is_not(None),
            ReviewReminder.next_at <= now,
        )
        .order_by(ReviewReminder.next_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query)


def _remind(runtime: Runtime, session: Session, row: ReviewReminder, now: datetime) -> bool:
    incident = session.get(Incident, row.incident_id)
    if incident is None or incident.status != "resolved":
        row.next_at = None  # reopened without the hook: nothing is due until the next resolve
        return False
    policy = policy_of(incident, runtime.policy)
    slot = next_slot(row.due_at, policy.postmortem.remind_every, now)
    # Compare-and-set on next_at: the claim that also holds on SQLite, where FOR UPDATE is a no-op
    # (the second writer waits for the first, then finds next_at moved and sends nothing).
    claimed = session.execute(
        update(ReviewReminder)
        .where(ReviewReminder.incident_id == row.incident_id, ReviewReminder.next_at == row.next_at)
        .values(next_at=slot)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    user = incident.commander_id or incident.reporter_id
    try:
        runtime.pager.direct_message(user, reminder_text(incident, row, now, policy.postmortem.review_within))
    except ChatError as exc:
        log.warning("review reminder DM failed: %s", exc.code, extra={"incident_id": incident.id})
        row.next_at = now + RETRY_AFTER
        return False
    row.reminders_sent += 1
    add_event(
        session,
        incident.id,
        EventKind.REVIEW,
        BOT_ACTOR,
        f"Review reminder {row.reminders_sent} sent to <@{user}> (review due {row.due_at:%Y-%m-%d %H:%M} UTC)",
        data={"reminder": row.reminders_sent, "user": user},
        dedupe_key=f"review-reminder:{row.due_at.isoformat()}:{row.reminders_sent}",
        at=now,
    )
    return True


def tick(runtime: Runtime) -> int:
    """Send the review reminders that are due; returns how many were sent. Safe in every replica."""
    now = runtime.clock.now()
    sent = 0
    for _attempt in range(BATCH):
        # One transaction per reminder: a failure later in the batch cannot resend an earlier DM.
        with runtime.session() as session:
            row = _claim(session, now)
            if row is None:
                break
            incident_id = row.incident_id
            try:
                sent += _remind(runtime, session, row, now)
                continue
            except Exception:
                log.exception("review reminder failed", extra={"incident_id": incident_id})
                session.rollback()
            # Never spin on one broken row every second; but leave a row another replica advanced.
            again = session.get(ReviewReminder, incident_id, with_for_update=True)
            if again is not None and again.next_at is not None and again.next_at <= now:
                again.next_at = now + RETRY_AFTER
    return sent
