"""Writing outbox rows exactly once per key, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.db.bulk import insert_ignoring
from bot.escalation.models import PageOutbox
from bot.incidents.models import TimelineEvent

KEY = ("incident_id", "loop", "tier", "target")
_DEFAULTS: dict[str, Any] = {
    "kind": "page",
    "tier_name": "",
    "text": None,
    "status": "pending",
    "attempts": 0,
    "claimed_at": None,
    "claimed_by": None,
    "sent_at": None,
    "requested_by": None,
    "error": None,
}


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT … ON CONFLICT (key) DO NOTHING; returns the ids of the rows this call created.

    A key that exists already (another replica, a replayed step) is silently kept as it was:
    the unique key, not the caller, is what makes a page happen once.
    """
    values = [{**_DEFAULTS, "deliveries": {}, **row} for row in rows]
    return insert_ignoring(session, PageOutbox.__table__, values, list(KEY), returning="id")


def insert_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Timeline events in one statement, each at most once per (incident, dedupe_key).

    The same rule as bot.incidents.timeline.add_event, without a savepoint per event: a tick that
    records a thousand pages must not pay four round trips for each.
    """
    values = [{"link": None, "data": {}, "text": "", **event} for event in events]
    insert_ignoring(session, TimelineEvent.__table__, values, ["incident_id", "dedupe_key"])
