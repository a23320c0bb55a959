"""The readiness probe of the database: `SELECT 1` with a hard time limit that never holds up /readyz.

The probe runs on its own thread and the caller waits at most `limit` seconds for it; at most one
probe is in flight per engine (a storm of /readyz requests against a hung database does not pile up
threads), and an answer is reused for `fresh` seconds.
"""

from __future__ import annotations

import threading
import time
import weakref

from sqlalchemy import Engine, text

from bot.db import guard

LIMIT_SECONDS = 1.2  # /readyz must answer within 2 s, HTTP and a busy host included
FRESH_SECONDS = 0.5


class DatabaseProbe:
    def __init__(self, engine: Engine, limit: float = LIMIT_SECONDS, fresh: float = FRESH_SECONDS):
        # Weak: the registry below is keyed by the engine, and a value must not keep its key alive.
        self._engine = weakref.ref(engine)
        self.limit, self.fresh = limit, fresh
        self._lock = threading.Lock()
        self._done: threading.Event | None = None  # the probe in flight, if any
        self._answer: tuple[float, bool] | None = None  # (monotonic time, database answered)

    def ok(self) -> bool:
        """True when the database answered `SELECT 1` within the limit."""
        with self._lock:
            if self._answer is not None and time.monotonic() - self._answer[0] < self.fresh:
                return self._answer[1]
            if self._done is None:
                self._done = threading.Event()
                threading.Thread(target=self._run, args=(self._done,), name="db-probe", daemon=True).start()
            done = self._done
        if not done.wait(self.limit):
            return False  # still waiting: that is the answer
        answer = self._answer
        return answer is not None and answer[1]

    def _run(self, done: threading.Event) -> None:
        try:
            engine = self._engine()
            if engine is None:
                raise LookupError("engine disposed")
            with guard.patience(self.limit), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            answered = True
        except Exception:  # any failure means "not ready"; the reason is in the callers' own logs
            answered = False
        with self._lock:
            self._answer = (time.monotonic(), answered)
            self._done = None
        done.set()


_probes: weakref.WeakKeyDictionary[Engine, DatabaseProbe] = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def database_answers(engine: Engine) -> bool:
    with _probes_lock:
        probe = _probes.get(engine)
        if probe is None:
            probe = _probes[engine] = DatabaseProbe(engine)
    return probe.ok()
