"""The scheduler never drops late work; the escalation tables match their migration on both databases."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import bot.db.tables  # noqa: F401  (registers every table on Base.metadata)
from bot.db.base import Base
from bot.escalation import service as escalation
from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents import service as incidents
from bot.incidents.models import Incident
from bot.scheduler import start_scheduler
from tests.escalation.helpers import ONCALL, close, guide_policy, make_runtime, outbox, pages

MY_TABLES = {"escalation_state", "page_outbox"}


def test_jobs_keep_late_runs_and_never_stack(emu, sqlite_url) -> None:
    runtime = make_runtime(emu, sqlite_url, guide_policy(), tick=0.5)
    scheduler = start_scheduler(runtime)
    try:
        job = scheduler.get_job("escalation")
        assert job.misfire_grace_time is None  # APScheduler 3's default (1 s) drops late runs
        assert job.coalesce is True and job.max_instances == 1
        assert job.trigger.interval == timedelta(seconds=0.5)
        assert scheduler.get_job("postmortem-reminders") is not None
    finally:
        scheduler.shutdown(wait=True)
        close(runtime)


def test_a_page_that_fell_due_while_no_bot_ran_is_sent_once_when_one_starts(emu, db_url) -> None:
    runtime = make_runtime(emu, db_url, guide_policy(), tick=0.2)
    channel = emu.add_channel("inc-down-while-away", members=[]).id
    twenty_minutes_ago = datetime.now(UTC) - timedelta(minutes=20)
    with runtime.session() as session:  # declared while every bot was down
        incident, _ = incidents.declare(
            session,
            runtime.policy,
            severity="p1",
            title="Declared while down",
            reporter_id=ONCALL,
            origin_channel_id=None,
            now=twenty_minutes_ago,
        )
        incident.channel_id = channel
        escalation.start(session, incident, twenty_minutes_ago)
        incident_id = incident.id
    scheduler = start_scheduler(runtime)
    try:
        emu.wait_for(lambda: pages(emu, ONCALL, incident_id), timeout=5)
        time.sleep(1.0)  # several more ticks
        assert len(pages(emu, ONCALL, incident_id)) == 1
        [row] = [r for r in outbox(runtime, incident_id) if r.kind == "page"]
        assert row.due_at == twenty_minutes_ago and row.sent_at - row.due_at >= timedelta(minutes=20)
        with runtime.session() as session:
            state = session.get(EscalationState, incident_id)
            # Tier 2 gets its full 15 minutes from when tier 1 was actually paged, not from the outage.
            assert state.next_at > datetime.now(UTC) + timedelta(minutes=14)
    finally:
        scheduler.shutdown(wait=True)
        close(runtime)


def test_escalation_tables_match_the_migration(db_url) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert [d for d in diffs if any(table in repr(d) for table in MY_TABLES)] == []
        # And rows round-trip through the real schema.
        with Session(engine) as session:
            now = datetime.now(UTC)
            incident = Incident(
                title="t",
                severity="p1",
                status="declared",
                reporter_id="U1",
                declared_at=now,
                response_due_at=now,
                policy_snapshot={},
                setup_errors=[],
            )
            session.add(incident)
            session.flush()
            session.add(
                EscalationState(incident_id=incident.id, policy="default", next_at=now, updated_at=now)
            )
            session.add(
                PageOutbox(
                    incident_id=incident.id,
                    loop=0,
                    tier=0,
                    target="U1",
                    due_at=now,
                    next_attempt_at=now,
                    deliveries={"slack": {"ok": True}},
                )
            )
            session.commit()
            assert session.get(EscalationState, incident.id).tier == -1
            assert session.scalars(select(PageOutbox)).one().deliveries == {"slack": {"ok": True}}
    finally:
        engine.dispose()
