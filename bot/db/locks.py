"""Write locks that work the same on PostgreSQL and SQLite (check-then-write as one atomic step), and
the lease of a claim whose holder calls Slack."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from bot.runtime import Runtime

# A declaration runs after Slack's ack, so it may wait longer than an interactive command for the
# per-person lock (PostgreSQL) or SQLite's single writer: twenty identical clicks at once queue behind each other, and the busy
# handler's polling is not fair, so one 2 s wait can lose to later arrivals on a loaded machine.
DECLARE_PATIENCE_SECONDS = 10.0
# A 'sending' claim older than its lease belongs to a dead process. The lease outlasts one Slack call
# with all its retries (timeout x attempts), so a slow call is never taken over and sent twice:
# 2 minutes at the default 15 s timeout, like pages; never under 10 s.
MIN_LEASE = timedelta(seconds=10)


def claim_lease(runtime: Runtime) -> timedelta:
    """How long a claim that calls Slack (a response-clock timer, a report post) stays its holder's."""
    return max(MIN_LEASE, timedelta(seconds=8 * runtime.settings.slack_timeout_seconds))


def write_lock(session: Session) -> None:
    """SQLite has no row locks: take the database write lock first so check-then-write is atomic.

    On PostgreSQL this does nothing; callers lock rows (FOR UPDATE) or take an advisory lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def declare_lock(session: Session, reporter_id: str) -> None:
    """Serialise one person's declarations, so identical ones sent at once open one incident.

    A PostgreSQL advisory lock held to the end of the transaction (any replica); on SQLite, the
    database write lock. Each try waits the usual lock limit; a lock still held is tried again until
    DECLARE_PATIENCE_SECONDS have passed. Then the repeat
    check and the insert run as one atomic step.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    key = int.from_bytes(hashlib.sha256(f"declare:{reporter_id}".encode()).digest()[:8], "big", signed=True)
    deadline = time.monotonic() + DECLARE_PATIENCE_SECONDS
    while True:
        try:
            if postgres:
                session.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            else:
                write_lock(session)
            return
        except sa_exc.OperationalError as exc:
            # Only a lock another declaration holds is waited out; a database that does not answer
            # is told at once (its own error), so the declarer learns within seconds either way.
            held = isinstance(exc.orig, pg_errors.LockNotAvailable) or (
                isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig).lower()
            )
            if not held or time.monotonic() >= deadline:
                raise
            session.rollback()  # nothing was read or written yet: start the transaction afresh
