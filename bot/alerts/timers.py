"""The alerts tick: apply the inbox, fire due confirm_within timers, sync dirty groups with Slack.

Runs every second from the scheduler (bot.scheduler's OPTIONAL_JOBS) and, to act "at once", is also
nudged by the HTTP route right after an alert is committed. One run at a time per process; a nudge
during a run makes that run go round once more instead of queueing a second one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from bot.alerts import service, sync

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
_running = threading.Lock()
_again = threading.Event()


def run_once(runtime: Runtime) -> int:
    touched = service.apply_pending(runtime)
    touched |= service.confirm_due(runtime)
    touched |= set(sync.dirty_groups(runtime))
    return sync.sync_groups(runtime, touched) if touched else 0


def tick(runtime: Runtime) -> int:
    if not _running.acquire(blocking=False):
        _again.set()  # the running pass goes round once more and sees this work
        return 0
    done = 0
    try:
        while True:
            _again.clear()
            done += run_once(runtime)
            if not _again.is_set():
                return done
    finally:
        _running.release()


def nudge(runtime: Runtime) -> None:
    """Act on what was just committed now, not at the next tick (off the request thread)."""
    # RuntimeError: the executor is shutting down; the next process's tick finds the rows.
    with contextlib.suppress(RuntimeError):
        runtime.executor.submit(_safe_tick, runtime)


def _safe_tick(runtime: Runtime) -> None:
    try:
        tick(runtime)
    except Exception:
        log.exception("alerts: processing failed; the next tick retries")
