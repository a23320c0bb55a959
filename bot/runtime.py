"""The Runtime: everything a listener or a periodic job needs, built once per process and passed down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.db.engine import session_scope
from bot.ports import AlertPort, ContactsPort, FilePort, PagerPort, WarRoomPort


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
    # Slack calls that do not depend on each other run here, after the ack.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="warroom")
    )
    # Lifecycle hooks, wired by the composition root (bot.app): e.g. "resolved" -> draft the postmortem.
    # Called after the change has committed, with (runtime, incident_id, actor).
    hooks: dict[str, list[Callable[[Runtime, int, str], None]]] = field(default_factory=dict)

    def fire(self, name: str, incident_id: int, actor: str) -> None:
        for hook in self.hooks.get(name, []):
            hook(self, incident_id, actor)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session
