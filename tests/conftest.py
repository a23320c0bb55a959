"""Shared fixtures: databases on SQLite and on the machine's PostgreSQL, each test on a fresh database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.db import create_db_engine, migrate
from bot.i18n import DEFAULT_LANGUAGE, default_language, set_default_language


@pytest.fixture(autouse=True, scope="module")
def _module_language_back_to_english() -> Iterator[None]:
    """build_runtime sets the process-wide default language from its policy: a module whose runtime is
    Chinese must not leave the next module in the same worker speaking Chinese."""
    yield
    set_default_language(DEFAULT_LANGUAGE)


@pytest.fixture(autouse=True)
def _test_language_as_it_was() -> Iterator[None]:
    """...nor a test whose own runtime is Chinese the next test (its module's language is kept)."""
    before = default_language()
    yield
    set_default_language(before)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail loudly when `--dist loadgroup` stops grouping (pytest-xdist#1386): the tests of one
    xdist_group would silently run on several workers, each paying for the group's shared set-up."""
    if session.config.getvalue("dist") != "loadgroup" or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(f"xdist_group ignored by this pytest/xdist pair, e.g. {lost[0]}")


PG_ADMIN_URL = os.environ.get("WARROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _fresh_pg_database() -> tuple[str, Engine]:
    name = f"warroom_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name, admin


def _drop_pg_database(name: str, admin: Engine) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a brand-new, migrated PostgreSQL database, dropped after the test."""
    name, admin = _fresh_pg_database()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        _drop_pg_database(name, admin)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Runs the test on both backends (SPEC §3)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
