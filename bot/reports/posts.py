"""Scheduled posts (`report_posts` rows: the weekly report, drill reports) sent exactly once.

The discipline of the response clock's tick (bot.response.tick), for every kind of post:

1. claim — one short transaction: a due row of this kind (pending and due, or 'sending' past the
   lease: the process that claimed it died) FOR UPDATE SKIP LOCKED, under the SQLite write lock,
   becomes 'sending', claimed by us, attempts + 1; committed at once.
2. send — the caller talks to Slack with no transaction open: a slow Slack holds no database lock
   (on SQLite the whole database's) and no connection.
3. record — a new short transaction, only if the claim is still ours: 'posted' with the message's
   ts (and the caller's own writes, e.g. a timeline note, in the same transaction), or back to
   'pending' with the kind's backoff, 'failed' after its MAX_ATTEMPTS. A late record from a process
   whose claim was taken over is refused, so a post Slack received is recorded once.

A process killed during the send leaves its row 'sending'; after the lease another replica posts it
(a kill between Slack's answer and the record is the only window for a second post, as for pages).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.db.locks import claim_lease, write_lock
from bot.ports import ChatError
from bot.reports.models import ReportPost

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """One kind of post: its periods' prefix, how often it is tried and how long between tries."""

    prefix: str
    max_attempts: int
    backoff: Callable[[int], timedelta]  # the wait after the n-th failed attempt


@dataclass(frozen=True)
class Claimed:
    id: int
    period: str
    channel_id: str
    since: datetime
    until: datetime
    attempts: int


def claim(runtime: Runtime, kind: Kind, now: datetime) -> Claimed | None:
    """The next due post of this kind, now 'sending' and ours; None when nothing is due."""
    with runtime.session() as session:
        write_lock(session)
        due = or_(
            and_(ReportPost.status == "pending", ReportPost.next_attempt_at <= now),
            and_(ReportPost.status == "sending", ReportPost.claimed_at < now - claim_lease(runtime)),
        )
        row = session.scalar(
            select(ReportPost)
            .where(ReportPost.period.like(f"{kind.prefix}%"), due)
            .order_by(ReportPost.next_attempt_at, ReportPost.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        row.status, row.claimed_at, row.claimed_by = "sending", now, runtime.worker_id
        row.attempts += 1
        return Claimed(row.id, row.period, row.channel_id, row.since, row.until, row.attempts)


@contextmanager
def preparing(runtime: Runtime, kind: Kind, item: Claimed) -> Iterator[None]:
    """Work between the claim and the send (building the post's text and chart). A failure there is
    a bug, not a fault: it is recorded as this attempt's error and raised, so the post is tried again
    after the kind's backoff and at most `max_attempts` times — not claimed anew after every lease."""
    try:
        yield
    except Exception as exc:
        record(runtime, kind, item, runtime.clock.now(), error=type(exc).__name__)
        raise


def record(
    runtime: Runtime,
    kind: Kind,
    item: Claimed,
    now: datetime,
    *,
    ts: str | None = None,
    error: str | None = None,
    final: bool = False,
    then: Callable[[Session, ReportPost], None] | None = None,
) -> bool:
    """Write the outcome if the claim is still ours; True when this call recorded the post.

    `ts` set: posted, and `then(session, row)` writes in the same transaction. Otherwise `error`:
    tried again after the kind's backoff, or failed (after its last attempt, or at once if `final`).
    """
    with runtime.session() as session:
        write_lock(session)
        row = session.get(ReportPost, item.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != "sending" or row.claimed_by != runtime.worker_id:
            return False  # taken over after our lease ran out: the new holder records
        row.claimed_at = row.claimed_by = None
        if ts is None:
            row.error = error or "not_posted"
            row.next_attempt_at = now + kind.backoff(row.attempts)
            row.status = "failed" if final or row.attempts >= kind.max_attempts else "pending"
            return False
        row.status, row.posted_at, row.message_ts, row.error = "posted", now, ts, None
        if then is not None:
            then(session, row)
    return True


def send(
    runtime: Runtime,
    kind: Kind,
    item: Claimed,
    post: Callable[[], str],
    then: Callable[[Session, ReportPost], None] | None = None,
) -> bool:
    """Call `post` (it talks to Slack and returns the message's ts) with no transaction open, then
    record the outcome; True when this call recorded the post."""
    try:
        ts = post()
    except ChatError as exc:
        log.warning("%s not posted: %s (attempt %d)", item.period, exc.code, item.attempts)
        record(runtime, kind, item, runtime.clock.now(), error=exc.code)
        return False
    return record(runtime, kind, item, runtime.clock.now(), ts=ts, then=then)
