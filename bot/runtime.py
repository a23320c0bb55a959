"""The Runtime: everything a listener or a periodic job needs, built once per process and passed down."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.db.engine import session_scope
from bot.ports import AlertPort, ContactsPort, FilePort, PagerPort, ResponseClockPort, WarRoomPort

T = TypeVar("T")


def _worker_id() -> str:
    # Unique per Runtime, so two runtimes in one process (tests, the console) never share claims.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    engine: Engine
    sessions: sessionmaker[Session]
    warroom: WarRoomPort
    pager: PagerPort
    files: FilePort
    contacts: ContactsPort  # SMS, e-mail, webhook pages
    clock: Clock = field(default_factory=SystemClock)
    alerts: AlertPort | None = None  # proposals and alert notices (None: a runtime without alerts wired)
    # Step nudges and status reminders (None: a runtime without the response clock wired).
    response_clock: ResponseClockPort | None = None
    # Slack calls that do not depend on each other run here, after the ack.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="warroom")
    )
    # Lifecycle hooks, wired by the composition root (bot.app): e.g. "resolved" -> draft the postmortem.
    # Called after the change has committed, with (runtime, incident_id, actor).
    hooks: dict[str, list[Callable[[Runtime, int, str], None]]] = field(default_factory=dict)
    # Who holds a claim (setup steps): renewed by this process's tick, released when it drains.
    worker_id: str = field(default_factory=_worker_id)
    # Set on SIGTERM: nothing new is claimed; work in flight finishes or is handed back.
    stopping: threading.Event = field(default_factory=threading.Event)
    _busy: int = 0
    _busy_changed: threading.Condition = field(default_factory=threading.Condition)

    def fire(self, name: str, incident_id: int, actor: str) -> None:
        for hook in self.hooks.get(name, []):
            hook(self, incident_id, actor)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn` on the pool; once the pool (or the interpreter) is shutting down, run it here.

        A listener still finishing a declaration during shutdown must not die on "cannot schedule
        new futures after interpreter shutdown": its work is done inline instead.
        """
        try:
            return self.executor.submit(fn, *args)
        except RuntimeError:
            future: Future[T] = Future()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)
            return future

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Marks work in flight that a drain waits for (a set-up run holding claims)."""
        with self._busy_changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_changed:
                self._busy -= 1
                self._busy_changed.notify_all()

    def drain(self, grace: float) -> bool:
        """Stop claiming new work and wait up to `grace` seconds for work in flight; True when idle."""
        self.stopping.set()
        deadline = time.monotonic() + grace
        with self._busy_changed:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._busy_changed.wait(left)
        return True
