"""Incidents declared under one YAML share a policy key, so a pass reads one snapshot for all of them;
incidents from before the key (migration 0011) get theirs, and one without a key still escalates on
its own snapshot."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import update

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.db import create_db_engine, migrate
from bot.escalation import engine
from bot.incidents.models import Incident, snapshot_key
from tests.escalation.helpers import DIRECTOR, GUIDE_POLICY, LEAD, ONCALL, close, declare, make_runtime, pages


def test_incidents_of_one_yaml_share_a_key_and_another_yaml_gets_another(emu, db_url) -> None:
    runtime = make_runtime(emu, db_url, load_policy_text(GUIDE_POLICY), ManualClock())
    try:
        first, second = declare(runtime, title="Checkout 502"), declare(runtime, title="Search slow")
        runtime.policy = load_policy_text(GUIDE_POLICY.replace(f"[{ONCALL}]", f"[{DIRECTOR}]"))
        third = declare(runtime, title="Login fails")
        assert first.policy_key == second.policy_key == snapshot_key(first.policy_snapshot)
        assert third.policy_key == snapshot_key(third.policy_snapshot) != first.policy_key
        engine.run_due(runtime)  # each pages its own YAML's tier 1
        assert [len(pages(emu, ONCALL, i.id)) for i in (first, second, third)] == [1, 1, 0]
        assert len(pages(emu, DIRECTOR, third.id)) == 1
    finally:
        close(runtime)


def test_an_incident_without_a_key_escalates_on_its_own_snapshot(emu, db_url) -> None:
    """Written by an older replica during a rolling upgrade: no key, a snapshot unlike any cached one."""
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, load_policy_text(GUIDE_POLICY), clock)
    try:
        keyed = declare(runtime, title="Checkout 502")
        old = declare(runtime, title="Search slow")
        snapshot = json.loads(json.dumps(old.policy_snapshot).replace(LEAD, DIRECTOR))
        with runtime.session() as session:
            session.execute(
                update(Incident)
                .where(Incident.id == old.id)
                .values(policy_key=None, policy_snapshot=snapshot)
            )
        engine.run_due(runtime)
        clock.advance(timedelta(hours=2))  # past tier 2 of both ladders
        engine.run_due(runtime)
        assert len(pages(emu, LEAD, keyed.id)) == 1 and pages(emu, DIRECTOR, keyed.id) == []
        assert pages(emu, LEAD, old.id) == [] and len(pages(emu, DIRECTOR, old.id)) >= 1
    finally:
        close(runtime)


def test_migration_0011_gives_every_existing_incident_its_key(tmp_path) -> None:
    engine_ = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    snapshots = [
        {"escalation": {"tiers": []}, "roles": {"a": 1}},
        {"roles": {"a": 1}, "escalation": {"tiers": []}},
    ]
    try:
        migrate(engine_, "0010")
        with engine_.begin() as connection:
            for n, snapshot in enumerate([*snapshots, {}], start=1):
                connection.exec_driver_sql(
                    "INSERT INTO incidents (id, title, severity, status, reporter_id, declared_at, response_due_at,"
                    " policy_snapshot, setup_errors, updated_at) VALUES (?, 'Old', 'p1', 'resolved', 'U1',"
                    " '2026-11-01 10:00:00', '2026-11-01 11:00:00', ?, '[]', '2026-11-01 10:00:00')",
                    (n, json.dumps(snapshot)),
                )
        migrate(engine_)
        with engine_.begin() as connection:
            keys = connection.execute(sa.text("SELECT policy_key FROM incidents ORDER BY id")).scalars().all()
        # Equal snapshots (whatever the key order in the stored JSON) get one key, the one declare writes.
        assert keys == [snapshot_key(snapshots[0]), snapshot_key(snapshots[0]), snapshot_key({})]
    finally:
        engine_.dispose()
