"""APScheduler drives the periodic ticks; it owns no state (the database does).

Every job runs with `misfire_grace_time=None` (APScheduler 3's default of 1 s silently drops a run
that starts late, e.g. after a GC pause or a busy host — a late tick must still run), `coalesce`
(several missed runs become one) and `max_instances=1` (a slow tick is not stacked on itself).
Jobs start at once, so a bot that comes back after downtime sends what fell due meanwhile.

Other parts register their periodic work by appending to `PERIODIC_JOBS`, or by providing
a module with a `tick(runtime)` that `OPTIONAL_JOBS` names (imported only if it exists).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: Callable[[Runtime], Any]
    # Seconds between runs; None means the escalation tick interval (settings.warroom_tick_seconds).
    seconds: float | None = None


def _escalation_tick(runtime: Runtime) -> Any:
    from bot.escalation.engine import tick

    return tick(runtime)


PERIODIC_JOBS: list[PeriodicJob] = [PeriodicJob("escalation", _escalation_tick)]

# (job id, module, function, seconds): included when the module can be imported.
OPTIONAL_JOBS: list[tuple[str, str, str, float]] = [
    ("postmortem-reminders", "bot.postmortem.reminders", "tick", 30.0),
]


def _optional_jobs() -> list[PeriodicJob]:
    jobs = []
    for job_id, module_name, func_name, seconds in OPTIONAL_JOBS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # the module exists but is broken: say so loudly
                raise
            continue
        func = getattr(module, func_name, None)
        if callable(func):
            jobs.append(PeriodicJob(job_id, func, float(getattr(module, "TICK_SECONDS", seconds))))
    return jobs


# job id -> time.monotonic() of its last completed run (for /readyz).
LAST_RUN: dict[str, float] = {}


def _run(job: PeriodicJob, runtime: Runtime) -> None:
    try:
        job.func(runtime)
    except Exception:  # the next run tries again; the scheduler must keep going
        log.exception("periodic job %s failed", job.id)
    finally:
        LAST_RUN[job.id] = time.monotonic()


def readiness_checks(runtime: Runtime, scheduler: BackgroundScheduler) -> dict[str, bool]:
    """/readyz: the scheduler runs and the escalation tick completed recently."""
    last = LAST_RUN.get("escalation")
    stale_after = max(10.0, 10 * runtime.settings.warroom_tick_seconds)
    return {
        "scheduler": bool(scheduler.running),
        "escalation_tick": last is not None and time.monotonic() - last < stale_after,
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
    for job in [*PERIODIC_JOBS, *_optional_jobs()]:
        if job.id in seen:
            continue
        seen.add(job.id)
        seconds = job.seconds if job.seconds is not None else runtime.settings.warroom_tick_seconds
        scheduler.add_job(
            _run,
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
