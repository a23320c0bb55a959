"""The escalation tick: the database is the timer, this only walks it.

Each process runs `tick(runtime)` from APScheduler every ≤ 1 s. A tick works in passes; each pass:

1. advances ladders — `escalation_state` rows whose `next_at` has come are taken with
   FOR NO KEY UPDATE SKIP LOCKED (together with their incident row), and the next rung is written
   as outbox rows under their unique key (incident, loop, tier, target), or the ladder is marked
   exhausted with a channel notice;
2. notices missed response targets (unacknowledged incidents past `response_due_at`);
3. sends due outbox rows — see `delivery.send_due` for the exactly-once argument.

The passes live beside it: `ladder` (1), `breaches` (2), `delivery` and `channels` (3); `passes`
holds what they share. This module only loops them.

Between passes the tick sleeps until the earliest due time it can see (or a local nudge), so a
page leaves within milliseconds of its due time rather than up to a tick interval late; it returns
before its interval ends so APScheduler can start the next one on time.

Lock order, to stay deadlock-free against ack/resolve (incident FOR UPDATE, then state FOR UPDATE):
the ladder step takes state+incident with SKIP LOCKED (never waits); the claim takes outbox rows
SKIP LOCKED and then waits only on state rows (FOR SHARE, sorted) and inserts nothing that would
need a key-share lock on an incident an ack holds.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.escalation.breaches import notice_response_breaches
from bot.escalation.channels import Claim
from bot.escalation.delivery import finish, send_batch, send_due
from bot.escalation.ladder import advance_batch, advance_ladders
from bot.escalation.models import EscalationState, PageOutbox
from bot.escalation.passes import PassReport
from bot.escalation.targets import GroupCache, TargetError
from bot.escalation.wake import wait as wait_for_nudge
from bot.incidents.models import Incident

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- tick
def tick(runtime: Runtime, budget: float | None = None) -> PassReport:
    """Work until just before the scheduler's next run, waking precisely at due times.

    The scheduler fires every `interval`; this returns about 10 % of an interval before the next
    fire. A pass that runs past a fire (a burst of pages) makes APScheduler skip that run, so the
    window is then stretched to the next fire instead of leaving the rest of the interval idle.
    """
    interval = runtime.settings.warroom_tick_seconds if budget is None else budget
    margin = interval * 0.1
    started = time.monotonic()
    ends = started + interval - margin
    report = PassReport()
    while True:
        done = run_due(runtime, raise_errors=True)  # a failed pass fails the tick (the /readyz stamp)
        report += done
        now = time.monotonic()
        if now >= ends + margin:  # we ran through a fire time: that run was skipped, carry on
            ends = started + (int((now - started) / interval) + 1) * interval - margin
        elif now >= ends:
            return report
        remaining = ends - now
        upcoming = next_due(runtime)
        pause = remaining
        if upcoming is not None:
            pause = min(remaining, (upcoming - runtime.clock.now()).total_seconds())
        # Something due but not ours (locked by a replica): do not spin on it.
        pause = max(pause, 0.0 if done.work else 0.05)
        wait_for_nudge(min(pause, remaining))


def run_due(runtime: Runtime, *, raise_errors: bool = False) -> PassReport:
    """Everything due at the clock's now (tests with a ManualClock call this).

    Ladder steps and sends alternate batch by batch, so with a thousand incidents due at once the
    first pages leave while later ladders are still being stepped; the invites, SMS, e-mail and the
    record of every paged row follow once the last page of the pass has left (`delivery.finish`).
    """
    report = PassReport()
    groups, seen = GroupCache(runtime.pager), set[int]()
    later: list[Claim] = []  # paged rows whose invites, SMS and record wait for the pass's last page
    try:
        report += notice_response_breaches(runtime)
        while True:
            stepped, more = advance_batch(runtime, groups, seen)
            report += stepped
            sent = PassReport()
            while (batch := send_batch(runtime, None, later)).work:  # every page this step made due
                sent += batch
            report += sent
            if not more and not sent.work:
                break
        if later:
            report += finish(runtime, later)
        return report
    except Exception:  # one bad pass must not stop the scheduler; the rows are still there
        if later:  # the pages that left are still recorded (their DMs are kept by progress anyway)
            with suppress(Exception):
                report += finish(runtime, later)
        if raise_errors:
            raise
        log.exception("escalation pass failed")
    return report


def next_due(runtime: Runtime) -> datetime | None:
    """The earliest moment any escalation work falls due, as far as the database says."""
    with runtime.session() as session:
        candidates = [
            session.scalar(select(func.min(EscalationState.next_at)).where(EscalationState.active.is_(True))),
            session.scalar(
                select(func.min(PageOutbox.next_attempt_at)).where(PageOutbox.status == "pending")
            ),
            session.scalar(
                select(func.min(Incident.response_due_at)).where(
                    Incident.status == "declared",
                    Incident.acknowledged_at.is_(None),
                    Incident.response_breach_at.is_(None),
                )
            ),
        ]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


__all__ = ["PassReport", "TargetError", "advance_ladders", "next_due", "run_due", "send_due", "tick"]
