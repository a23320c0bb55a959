"""APScheduler drives the periodic ticks; it owns no state (the database does).

Every job runs with `misfire_grace_time=None` (APScheduler 3's default of 1 s silently drops a run
that starts late, e.g. after a GC pause or a busy host — a late tick must still run), `coalesce`
(several missed runs become one) and `max_instances=1` (a slow tick is not stacked on itself).
Jobs start at once, so a bot that comes back after downtime sends what fell due meanwhile.

Every periodic job is listed in `PERIODIC_JOBS`, imported plainly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot import health
from bot.alerts import retention as alerts_retention
from bot.alerts import timers as alerts_timers
from bot.db.guard import database_fault
from bot.drills import flows as drill_reports
from bot.escalation.engine import tick as escalation_tick
from bot.incidents import reconcile, setup
from bot.postmortem import reminders
from bot.reports import weekly as weekly_report
from bot.response import tick as response_clock
from bot.security import periodic as security_periodic

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: Callable[[Runtime], Any]
    # Seconds between runs; None means the escalation tick interval (settings.warroom_tick_seconds).
    seconds: float | None = None


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("escalation", escalation_tick),
    PeriodicJob("postmortem-reminders", reminders.tick, 30.0),
    PeriodicJob("alerts", alerts_timers.tick, 1.0),
    PeriodicJob("alerts-retention", alerts_retention.tick, alerts_retention.TICK_SECONDS),
    # War-room set-up steps left by a crash, a SIGTERM or a Slack outage; leases renewed.
    PeriodicJob("incident-setup", setup.tick, setup.TICK_SECONDS),
    # At start and every minute: ladders and set-up rows a crash left missing, stale claims.
    PeriodicJob("incident-reconcile", reconcile.tick, reconcile.TICK_SECONDS),
    # The guide's response clock: steps over budget nudged once, status reminders (bot.response).
    PeriodicJob("response-clock", response_clock.tick, response_clock.TICK_SECONDS),
    # reports.weekly_at (Monday 09:00 UTC): last week's report in announce_channel, once across replicas.
    PeriodicJob("weekly-report", weekly_report.tick, weekly_report.TICK_SECONDS),
    # Drill reports the resolve hook could not post (Slack down, a crash before the hook).
    PeriodicJob("drill-reports", drill_reports.tick, drill_reports.TICK_SECONDS),
    # reviews.contacts_every (weekly): contact freshness; reviews.policy_every (quarterly): the review reminder.
    PeriodicJob("security-reviews", security_periodic.tick, security_periodic.TICK_SECONDS),
]


FAILED_RUNS_NOT_READY = 3  # one failed tick is a blip; three in a row is an outage


def run_job(job: PeriodicJob, runtime: Runtime) -> None:
    """One run of `job`: a heartbeat if it succeeded, a failure counted if it raised."""
    try:
        job.func(runtime)
    except Exception as exc:  # the next run tries again; the scheduler must keep going
        health.failed(job.id)
        if database_fault(exc) is None:
            log.exception("periodic job %s failed", job.id)
        else:  # an outage, once a second: one line each, not a traceback
            log.warning("periodic job %s failed on the database: %s", job.id, exc)
    else:
        health.beat(job.id)


def readiness_checks(runtime: Runtime, scheduler: BackgroundScheduler) -> dict[str, bool]:
    """/readyz: the scheduler runs and the escalation tick succeeded recently and lately."""
    last = health.last_run("escalation")
    stale_after = max(10.0, 10 * runtime.settings.warroom_tick_seconds)
    return {
        "scheduler": bool(scheduler.running),
        "escalation_tick": last is not None
        and time.monotonic() - last < stale_after
        and health.failures_in_a_row("escalation") < FAILED_RUNS_NOT_READY,
    }


class _QuietOverrun(logging.Filter):
    """A tick that runs through its next fire time is by design (it stretches its window, see
    bot.escalation.engine.tick); APScheduler's warning about the skipped run is noise then."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.getMessage().startswith('Execution of job "escalation')
            and "maximum number of running instances" in record.getMessage()
        )


_QUIET = _QuietOverrun()


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Start the background scheduler with every periodic job; the caller shuts it down."""
    logging.getLogger("apscheduler.scheduler").addFilter(_QUIET)
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=max(4, len(PERIODIC_JOBS) + 2))},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone=UTC,
    )
    seen: set[str] = set()
    for job in PERIODIC_JOBS:
        if job.id in seen:
            continue
        seen.add(job.id)
        seconds = job.seconds if job.seconds is not None else runtime.settings.warroom_tick_seconds
        scheduler.add_job(
            run_job,
            "interval",
            args=[job, runtime],
            id=job.id,
            name=job.id,
            seconds=seconds,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    scheduler.start()
    return scheduler
