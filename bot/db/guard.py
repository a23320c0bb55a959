"""Time limits and a circuit breaker for database calls, and what a failed call means for the user.

Server-side limits (statement_timeout, lock_timeout) only help while the server reads our bytes.
A database that hangs — a stuck proxy, a frozen host, a network that drops packets — never sees
them, and TCP keepalives or tcp_user_timeout do not fire while a proxy's kernel still acknowledges.
So every PostgreSQL round trip also has a client-side limit (`GuardedConnection.wait`): when it
passes, the connection is closed (its protocol state is unknown) and the caller gets
`DatabaseTimeout`. A breaker remembers recent timeouts and refused connections, so the next callers
are answered at once instead of waiting again; it closes by itself on the next call that succeeds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

# Seconds. An interactive command must get its honest answer within Slack's 3 s: one round trip may
# take ROUND_TRIP_SECONDS before the client gives up; the server cancels a slow statement itself a
# little earlier (so a busy but alive server keeps its connection), and a lock wait earlier still.
ROUND_TRIP_SECONDS = 2.0
STATEMENT_TIMEOUT_MS = 1500
LOCK_TIMEOUT_MS = 1000
CONNECT_TIMEOUT_SECONDS = 2  # libpq's and psycopg's minimum
POOL_TIMEOUT_SECONDS = 2.0  # waiting for a free pooled connection
# Dead peers on a real network: probe an idle connection after 10 s, give up after 2 more missed
# probes; unacknowledged writes are abandoned after 5 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 2}
TCP_USER_TIMEOUT_MS = 5000
SQLITE_BUSY_MS = 2000  # a write waits this long for another writer's lock
# After a timeout or a refused connection, callers fail fast for this long; then the next one tries.
BREAKER_COOLDOWN_SECONDS = 1.0

_patience: ContextVar[float | None] = ContextVar("db_patience", default=None)


@contextmanager
def patience(seconds: float) -> Iterator[None]:
    """A longer client-side limit for this context's calls (batch work, migrations). Pair it with
    `SET LOCAL statement_timeout` / `lock_timeout` so the server allows as much."""
    token = _patience.set(seconds)
    try:
        yield
    finally:
        _patience.reset(token)


class DatabaseUnavailable(psycopg.OperationalError):
    """Not tried: recent calls found the database not answering (the breaker is open)."""


class DatabaseTimeout(psycopg.OperationalError):
    """No answer within the limit; the connection was closed, the transaction never committed."""


class CommitOutcomeUnknown(psycopg.OperationalError):
    """The COMMIT was sent but its answer never came: the change may or may not be saved."""


@dataclass
class Breaker:
    """Open after a timeout or a refused connection; callers then fail fast until `cooldown` has
    passed, when the next caller tries again. Any success closes it."""

    cooldown: float = BREAKER_COOLDOWN_SECONDS
    open_until: float = 0.0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    @property
    def is_open(self) -> bool:
        return self.failures > 0

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            self.open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        if self.failures:  # the common case stays lock-free
            with self._lock:
                self.failures, self.open_until = 0, 0.0


class GuardedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server is bounded and breaker-gated."""

    breaker: Breaker | None = None
    round_trip: float = ROUND_TRIP_SECONDS
    _committing: bool = False

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        breaker = self.breaker
        if breaker is not None and not breaker.allows():
            gen.close()
            self.pgconn.finish()  # nothing sent; closed so the pool replaces it once the database is back
            raise DatabaseUnavailable("the database is not answering (recent calls timed out); not tried")
        limit = _patience.get() or self.round_trip
        try:
            result = super().wait(gen, interval, timeout=limit if timeout is None else min(timeout, limit))
        except pg_errors._WaitTimeout:
            # Mid-protocol: the only safe state is closed. The server rolls back what it received.
            self.pgconn.finish()
            if breaker is not None:
                breaker.failed()
            if self._committing:
                raise CommitOutcomeUnknown(f"no answer to COMMIT within {limit:g} s") from None
            raise DatabaseTimeout(f"the database did not answer within {limit:g} s") from None
        if breaker is not None:
            breaker.succeeded()
        return result

    def commit(self) -> None:
        self._committing = True
        try:
            super().commit()
        except psycopg.OperationalError as exc:
            if isinstance(exc, CommitOutcomeUnknown) or not (self.closed or self.broken):
                raise
            # The connection broke with the COMMIT in flight: the server may have committed.
            raise CommitOutcomeUnknown(str(exc)) from exc
        finally:
            self._committing = False


def pg_options(cparams: dict[str, Any]) -> dict[str, Any]:
    """Connect parameters with our limits; a value the DATABASE_URL sets itself wins."""
    params = dict(cparams)
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    params.setdefault("tcp_user_timeout", TCP_USER_TIMEOUT_MS)
    for key, value in KEEPALIVES.items():
        params.setdefault(key, value)
    ours = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    # Later -c settings win, so the URL's own options override ours.
    params["options"] = f"{ours} {params['options']}" if params.get("options") else ours
    return params


def connect_guarded(breaker: Breaker, *cargs: Any, **cparams: Any) -> GuardedConnection:
    """SQLAlchemy's `do_connect`: a guarded connection, or at once an error while the breaker is open."""
    if not breaker.allows():
        raise DatabaseUnavailable("the database is not answering (recent calls failed); not tried")
    try:
        conn = GuardedConnection.connect(*cargs, **pg_options(cparams))
    except psycopg.OperationalError:
        breaker.failed()
        raise
    conn.breaker = breaker
    breaker.succeeded()
    return conn


# ------------------------------------------------------------------------- what a failure means
class Fault(StrEnum):
    DOWN = "down"  # not answering, refused, or too slow: nothing was saved
    BUSY = "busy"  # alive but locked by another writer: nothing was saved
    UNKNOWN = "unknown"  # the commit was sent and never confirmed


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]


def database_fault(exc: BaseException) -> Fault | None:
    """What a failed call means for the person waiting, or None when the database is not to blame."""
    found: set[Fault] = set()
    for item in _chain(exc):
        if isinstance(item, CommitOutcomeUnknown):
            found.add(Fault.UNKNOWN)
        elif isinstance(item, pg_errors.TransactionRollback):
            return None  # a deadlock or serialization failure: the database answered
        elif isinstance(item, pg_errors.LockNotAvailable) or (
            isinstance(item, sqlite3.OperationalError) and "locked" in str(item).lower()
        ):
            found.add(Fault.BUSY)
        elif isinstance(item, psycopg.OperationalError | sqlite3.OperationalError | sa_exc.TimeoutError) or (
            isinstance(item, sa_exc.DBAPIError) and item.connection_invalidated
        ):
            found.add(Fault.DOWN)
    return next((fault for fault in (Fault.UNKNOWN, Fault.BUSY, Fault.DOWN) if fault in found), None)
