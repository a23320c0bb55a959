"""Waking this process's tick early: a committed declare or hand page should not wait for the next tick.

Only a hint: other replicas still find the work by polling within one tick interval.
"""

from __future__ import annotations

import threading

_event = threading.Event()


def nudge() -> None:
    _event.set()


def wait(seconds: float) -> bool:
    """Sleep up to `seconds`, or less if nudged; True when nudged."""
    woke = _event.wait(max(0.0, seconds))
    _event.clear()
    return woke


def clear() -> None:
    _event.clear()
