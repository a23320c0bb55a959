"""The tick's heartbeat: a run that raised is no heartbeat (a real process with failing ticks is in
test_warroom_run.py)."""

from __future__ import annotations

import uuid
from typing import Any

from bot import health
from bot.scheduler import PeriodicJob, run_job


def _fail(_: Any) -> None:
    raise RuntimeError("the database is not answering")


def test_a_run_that_raised_is_no_heartbeat() -> None:
    job_id = f"job-{uuid.uuid4().hex}"  # its own id: the heartbeats are process-wide
    run_job(PeriodicJob(job_id, _fail), runtime=None)  # type: ignore[arg-type]
    assert health.last_run(job_id) is None
    assert health.failures_in_a_row(job_id) == 1
    run_job(PeriodicJob(job_id, lambda _: None), runtime=None)  # type: ignore[arg-type]
    assert health.last_run(job_id) is not None
    assert health.failures_in_a_row(job_id) == 0
