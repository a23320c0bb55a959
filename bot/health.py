"""Heartbeats of periodic jobs: when each last completed (for /readyz and /metrics).

Its own module so that metrics can read it without importing the scheduler (which imports the
escalation engine, which records metrics).
"""

from __future__ import annotations

import time

# job id -> time.monotonic() of its last completed run; written by the scheduler's job wrapper.
_LAST_RUN: dict[str, float] = {}


def beat(job_id: str) -> None:
    _LAST_RUN[job_id] = time.monotonic()


def last_run(job_id: str) -> float | None:
    return _LAST_RUN.get(job_id)
