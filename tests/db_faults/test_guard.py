"""The client-side limit on a hung PostgreSQL, through the proxy: what "not saved" and "cannot tell"
rest on. A statement cut off before COMMIT never lands; a COMMIT cut off may land after all."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, TextClause, exc, text

from bot.db import create_db_engine
from bot.db.guard import Fault, database_fault
from tests.db_faults.proxy import FaultProxy

pytestmark = pytest.mark.postgres


Proxied = tuple[FaultProxy, Engine, Engine]  # the proxy, an engine through it, one around it


@pytest.fixture
def proxied(pg_url: str) -> Iterator[Proxied]:
    with FaultProxy("127.0.0.1", 5432) as proxy:
        through, direct = create_db_engine(proxy.url_for(pg_url)), create_db_engine(pg_url)
        try:
            yield proxy, through, direct
        finally:
            through.dispose()
            direct.dispose()


def _keys(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT key FROM processed_keys ORDER BY key")))


def _insert(key: str) -> TextClause:
    return text("INSERT INTO processed_keys (key, at) VALUES (:key, now())").bindparams(key=key)


def test_a_statement_cut_off_before_commit_is_never_saved(proxied: Proxied) -> None:
    proxy, through, direct = proxied
    with through.connect() as conn:
        conn.execute(text("SELECT 1"))
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(exc.OperationalError) as raised:
            conn.execute(_insert("cut-before-commit"))
        assert time.monotonic() - started < 3.0
    assert database_fault(raised.value) is Fault.DOWN
    # The next caller is answered at once rather than waiting again.
    started = time.monotonic()
    with pytest.raises(exc.OperationalError) as again, through.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert time.monotonic() - started < 0.5
    assert database_fault(again.value) is Fault.DOWN
    proxy.heal()
    # The held bytes reach the server now, but without a COMMIT: rolled back, as the user was told.
    time.sleep(1.5)
    assert "cut-before-commit" not in _keys(direct)
    with through.connect() as conn:  # and the engine is usable again without a restart
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_a_commit_cut_off_is_reported_as_unknown_because_it_may_land(proxied: Proxied) -> None:
    proxy, through, direct = proxied
    conn = through.connect()
    try:
        conn.execute(_insert("cut-during-commit"))
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(exc.OperationalError) as raised:
            conn.commit()
        assert time.monotonic() - started < 3.0
    finally:
        conn.close()
    assert database_fault(raised.value) is Fault.UNKNOWN
    proxy.heal()
    # The COMMIT was on its way: it lands once bytes flow, so "not saved" would have been a lie.
    deadline = time.monotonic() + 5
    while "cut-during-commit" not in _keys(direct):
        assert time.monotonic() < deadline, "the held COMMIT never reached the server"
        time.sleep(0.1)
