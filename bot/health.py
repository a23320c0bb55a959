"""Heartbeats of periodic jobs: when each last succeeded, and how many runs failed since (for
/readyz and /metrics). A run that raised is no heartbeat, or /readyz would say ready while every
tick fails.

Its own module so that metrics can read it without importing the scheduler (which imports the
escalation engine, which records metrics).
"""

from __future__ import annotations

import time

# job id -> time.monotonic() of its last successful run; written by the scheduler's job wrapper.
_LAST_RUN: dict[str, float] = {}
# job id -> runs that failed in a row since the last success.
_FAILURES: dict[str, int] = {}


def beat(job_id: str) -> None:
    """A run of `job_id` succeeded."""
    _LAST_RUN[job_id] = time.monotonic()
    _FAILURES[job_id] = 0


def failed(job_id: str) -> None:
    """A run of `job_id` raised."""
    _FAILURES[job_id] = _FAILURES.get(job_id, 0) + 1


def last_run(job_id: str) -> float | None:
    """When `job_id` last succeeded (time.monotonic()), or None."""
    return _LAST_RUN.get(job_id)


def failures_in_a_row(job_id: str) -> int:
    return _FAILURES.get(job_id, 0)
