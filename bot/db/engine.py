"""Engine and sessions. One code path for SQLite (default) and PostgreSQL (production, replicas)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from bot.db import guard

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_SECONDS = 600


def create_db_engine(url: str) -> Engine:
    """An engine whose every call has a time limit (see bot.db.guard for the values and why)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"check_same_thread": False, "timeout": guard.SQLITE_BUSY_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets the tick read while a listener writes; foreign keys are off by default in SQLite.
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={guard.SQLITE_BUSY_MS}")
            cursor.close()

        return engine
    # pool_pre_ping: the guide's pool settings; a database restart heals without a bot restart.
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_recycle=3600,
        pool_timeout=guard.POOL_TIMEOUT_SECONDS,
    )
    if engine.dialect.driver == "psycopg":
        breaker = guard.Breaker()

        @event.listens_for(engine, "do_connect")
        def _guarded_connect(_dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
            return guard.connect_guarded(breaker, *cargs, **cparams)

    return engine


# Transactions that wrote and committed in this context (a listener runs in its own copy): a
# listener that fails afterwards can tell "nothing was saved" from "saved, but not finished".
_saved: ContextVar[int] = ContextVar("db_saved", default=0)


def saved_count() -> int:
    return _saved.get()


def _flushed(session: Session, _context: object) -> None:
    session.info["wrote"] = True


def _dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "after_flush", _flushed)
    event.listen(factory, "do_orm_execute", _dml)
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
        if session.info.pop("wrote", False):
            _saved.set(_saved.get() + 1)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations to `engine` up to `revision` (idempotent; run by `warroom migrate`
    and at start, always to head; tests stop at an older revision to write rows from before a change)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Batch work: a migration may rewrite a table, and a replica waits here for another's migration.
    with guard.patience(MIGRATION_SECONDS), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {MIGRATION_SECONDS * 1000}")
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {MIGRATION_SECONDS * 1000}")
            # Replicas starting together on an empty database: one migrates, the others wait, then find it done.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7267961)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
