"""The data layer on SQLite and PostgreSQL: migrations match the models; lifecycle rules hold on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bot.db.tables  # noqa: F401  (registers every table on Base.metadata)
from bot.config.policy import Policy
from bot.db import Base, create_db_engine, make_session_factory, session_scope
from bot.incidents import service
from bot.incidents.service import IncidentError, channel_name
from bot.incidents.timeline import EventKind, add_event, events

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_migrations_match_models(db_url: str) -> None:
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_lifecycle_rules_and_utc_round_trip(db_url: str) -> None:
    sessions = make_session_factory(create_db_engine(db_url))
    policy = Policy()
    with session_scope(sessions) as s:
        incident, created = service.declare(
            s,
            policy,
            severity="P1",
            title="  Checkout   returns 502 ",
            reporter_id="U1",
            origin_channel_id="C1",
            now=NOW,
            request_key="t1",
        )
        assert created and incident.title == "Checkout returns 502"
        again, created_again = service.declare(
            s,
            policy,
            severity="p1",
            title="x",
            reporter_id="U1",
            origin_channel_id="C1",
            now=NOW,
            request_key="t1",
        )
        assert again.id == incident.id and not created_again
        service.acknowledge(s, incident, "U2", NOW + timedelta(minutes=3))
        with pytest.raises(IncidentError, match="already acknowledged"):
            service.acknowledge(s, incident, "U3", NOW + timedelta(minutes=4))
        service.resolve(s, incident, "U2", NOW + timedelta(hours=1))
        with pytest.raises(IncidentError, match="already resolved"):
            service.resolve(s, incident, "U2", NOW + timedelta(hours=2))
        incident_id = incident.id
    with session_scope(sessions) as s:
        row = service.get(s, incident_id)
        assert row.declared_at == NOW and row.declared_at.tzinfo is not None
        assert row.response_due_at == NOW + timedelta(hours=1)
        assert row.acknowledged_by == "U2" and row.commander_id == "U2"
        assert [e.kind for e in events(s, incident_id)] == ["declared", "role", "acknowledged", "resolved"]
        # a dedupe key makes the second write a no-op, on both backends
        assert add_event(s, incident_id, EventKind.PIN, "U1", "a", dedupe_key="msg:1") is not None
        assert add_event(s, incident_id, EventKind.PIN, "U1", "a", dedupe_key="msg:1") is None
    with session_scope(sessions) as s:
        assert [e.kind for e in events(s, incident_id)].count("pin") == 1


@pytest.mark.parametrize(
    ("title", "suffix", "expected"),
    [
        ("Checkout returns 502", 0, "inc-20260301-7-checkout-returns-502"),
        ("支付服务不可用", 0, "inc-20260301-7"),
        ("Café: crème brûlée!!", 2, "inc-20260301-7-cafe-creme-brulee-2"),
        ("x" * 200, 0, "inc-20260301-7-" + "x" * 65),
    ],
)
def test_channel_names(title: str, suffix: int, expected: str) -> None:
    name = channel_name(7, NOW, title, suffix)
    assert name == expected and len(name) <= 80
