"""Writing outbox rows exactly once per key, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    values = [{**_DEFAULTS, "deliveries": {}, **row} for row in rows]
    table = PageOutbox.__table__
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(KEY)).returning(table.c.id)
    return [row_id for (row_id,) in session.execute(statement, values)]


def insert_events(session: Session, events: list[dict[str, Any]]) -> int:
    """Timeline events in one statement, each at most once per (incident, dedupe_key).

    The same rule as bot.incidents.timeline.add_event, without a savepoint per event: a tick that
    records a thousand pages must not pay four round trips for each.
    """
    if not events:
        return 0
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = TimelineEvent.__table__
    values = [{"link": None, "data": {}, "text": "", **event} for event in events]
    statement = module.insert(table).on_conflict_do_nothing(index_elements=["incident_id", "dedupe_key"])
    return session.execute(statement, values).rowcount or 0
