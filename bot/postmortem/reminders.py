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
from bot.i18n import N_, _, ngettext, use_language
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, said
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
    text, data = said(N_("Postmortem review due by {due} UTC"), due=f"{due:%Y-%m-%d %H:%M}")
    add_event(
        session,
        incident.id,
        EventKind.REVIEW,
        BOT_ACTOR,
        text,
        data={"due_at": due.isoformat(), **data},
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
            _(
                "INC-{id} is {status}; the review follows the resolve. `/incident resolve` first, "
                "then `/incident review done` once the postmortem is reviewed.",
                id=incident.id,
                status=_(incident.status),
            )
        )
    row = session.get(ReviewReminder, incident.id, with_for_update=True)
    if row is None:  # resolved before this feature, or the hook did not run
        row = ReviewReminder(incident_id=incident.id, due_at=now, reminders_sent=0)
        session.add(row)
    elif row.done_at is not None:
        raise IncidentError(
            _(
                "The review of INC-{id} was already marked done by {who} on {when} UTC. Nothing changed.",
                id=incident.id,
                who=f"<@{row.done_by}>",
                when=f"{row.done_at:%Y-%m-%d %H:%M}",
            )
        )
    row.done_at, row.done_by, row.next_at = now, actor, None
    session.flush()
    text, data = said(N_("Postmortem review done"))
    add_event(session, incident.id, EventKind.REVIEW, actor, text, data=data, at=now)
    return row


def reminder_text(incident: Incident, row: ReviewReminder, now: datetime, review_within: timedelta) -> str:
    """The DM, in the language in force (the caller picks the incident's)."""
    late = now - row.due_at
    days = int(late / timedelta(days=1))
    overdue = ngettext("{n} day overdue", "{n} days overdue", days) if days >= 1 else _("due now")
    if incident.channel_id:
        where = f"<#{incident.channel_id}>"
    else:
        where = _("the channel of INC-{id}", id=incident.id)
    # A DM is outside the room: a private incident's title stays in it (SPEC §13).
    title = _("restricted incident") if incident.private else incident.title
    # Plain domain text: the DM port escapes it for Slack at the edge.
    return _(
        ":memo: The postmortem review of *INC-{id}* ({title}) is {overdue} (due {due} UTC, {within} "
        "after the resolve). Go through the draft with the team — root cause, improvements, prevention, "
        "action items — then type `/incident review done` in {where}.",
        id=incident.id,
        title=title,
        overdue=overdue,
        due=f"{row.due_at:%Y-%m-%d %H:%M}",
        within=format_duration(review_within),
        where=where,
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
    # A DM is read by one person: in their Slack language, else the incident's (like its room).
    with use_language(runtime.pager.language_of(user) or policy.language):
        message = reminder_text(incident, row, now, policy.postmortem.review_within)
    try:
        runtime.pager.direct_message(user, message)
    except ChatError as exc:
        log.warning("review reminder DM failed: %s", exc.code, extra={"incident_id": incident.id})
        row.next_at = now + RETRY_AFTER
        return False
    row.reminders_sent += 1
    text, data = said(
        N_("Review reminder {n} sent to {who} (review due {due} UTC)"),
        n=str(row.reminders_sent),
        who=f"<@{user}>",
        due=f"{row.due_at:%Y-%m-%d %H:%M}",
    )
    add_event(
        session,
        incident.id,
        EventKind.REVIEW,
        BOT_ACTOR,
        text,
        data={"reminder": row.reminders_sent, "user": user, **data},
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
