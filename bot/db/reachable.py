"""Waiting for the database at start: one line per attempt naming the host, backoff, no traceback.

A pod whose database is not up yet (or is being restarted) should wait for it and say so, rather
than crash-loop with 122 lines of SQLAlchemy traceback that bury the one fact that matters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.security.redact import mask

BACKOFF_CAP = 30.0


def describe(url: str) -> str:
    """The database as an operator names it, password hidden: postgresql://warroom:***@db:5432/warroom."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return mask(url)


def problem(url: str, timeout: float = 5.0) -> str | None:
    """None when the database answers SELECT 1; otherwise the driver's reason, on one line, masked."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        return f"DATABASE_URL is not a database URL: {mask(str(exc))}"
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = max(1, int(timeout))
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except Exception as exc:  # a missing driver, bad arguments: still one line, not a traceback
        return mask(str(exc).splitlines()[0])
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return mask(reason[0] if reason else type(exc).__name__)
    finally:
        engine.dispose()


def wait_for_database(
    url: str,
    say: Callable[[str], None],
    stop: threading.Event,
    *,
    first_delay: float = 1.0,
    cap: float = BACKOFF_CAP,
) -> bool:
    """Try until the database answers (True) or `stop` is set (False), doubling the wait up to `cap`."""
    delay = first_delay
    attempt = 1
    while not stop.is_set():
        reason = problem(url)
        if reason is None:
            if attempt > 1:
                say(f"database {describe(url)} is answering; starting")
            return True
        say(f"database {describe(url)} unreachable: {reason} — attempt {attempt}, retrying in {delay:g}s")
        if stop.wait(delay):
            break
        delay = min(cap, delay * 2)
        attempt += 1
    return False
