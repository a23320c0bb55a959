"""The timeline: every change, page, note, pin, diagnostic and remediation, in UTC, exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.incidents.models import TimelineEvent

BOT_ACTOR = "warroom"


class EventKind(StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SEVERITY = "severity"
    ROLE = "role"
    NOTE = "note"
    STATUS_UPDATE = "status_update"
    PIN = "pin"
    REACTION = "reaction"
    CHECKLIST = "checklist"
    PAGE = "page"
    PAGE_FAILED = "page_failed"
    ESCALATION = "escalation"
    RESPONSE_BREACH = "response_breach"
    DIAGNOSTIC = "diagnostic"
    REMEDIATION = "remediation"
    POSTMORTEM = "postmortem"
    REVIEW = "review"
    ACTION_ITEM = "action_item"
    SETUP_ERROR = "setup_error"
    OUTSIDE_ROOM = "outside_room"  # a lifecycle change by someone not in the war room
    RESPONSE_CLOCK = "response_clock"  # a step over its budget, a status reminder (bot.response)
    ALERT = "alert"  # the monitoring alert that opened it, its folded repeats and its resolution


def add_event(
    session: Session,
    incident_id: int,
    kind: EventKind | str,
    actor: str,
    text: str = "",
    *,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    at: datetime | None = None,
) -> TimelineEvent | None:
    """Append an event; with a `dedupe_key` already used for this incident, do nothing and return None."""
    event = TimelineEvent(
        incident_id=incident_id,
        kind=str(kind),
        actor=actor,
        text=text,
        link=link,
        data=data or {},
        dedupe_key=dedupe_key,
        at=at or utcnow(),
    )
    if dedupe_key is None:
        session.add(event)
        session.flush()
        return event
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    return event


def events(session: Session, incident_id: int, kinds: set[str] | None = None) -> list[TimelineEvent]:
    query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
    if kinds:
        query = query.where(TimelineEvent.kind.in_(sorted(kinds)))
    return list(session.scalars(query.order_by(TimelineEvent.at, TimelineEvent.id)))
