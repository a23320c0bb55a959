"""The drill report is claimed, sent with no transaction open, then recorded with its timeline note:
a slow Slack blocks no other write, and a claim whose process died is taken over and posted once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.locks import claim_lease
from bot.drills import flows as drill_reports
from bot.incidents import flows
from bot.incidents.timeline import EventKind
from bot.reports import posts
from bot.reports.models import ReportPost
from bot.runtime import Runtime
from tests.drills.helpers import declare_drill, reports
from tests.escalation.helpers import ONCALL, close, guide_policy, make_runtime, timeline


def _row(runtime: Runtime) -> ReportPost:
    with runtime.session() as session:
        return session.scalars(select(ReportPost)).one()


def _report_notes(runtime: Runtime, incident_id: int) -> list[str]:
    return [e.text for e in timeline(runtime, incident_id, EventKind.NOTE) if e.text == "Drill report posted"]


def test_a_slow_drill_report_on_sqlite_does_not_block_a_note(emu, sqlite_url, monkeypatch) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    runtime = make_runtime(emu, sqlite_url, guide_policy(), clock)
    try:
        drill = declare_drill(runtime, resolved_by_a_dead_process=True)
        calling = threading.Event()
        notify = runtime.warroom.notify

        def spy(channel_id: str, text: str):  # type: ignore[no-untyped-def]
            if "Drill report" in text:
                calling.set()
            return notify(channel_id, text)

        monkeypatch.setattr(runtime.warroom, "notify", spy)
        emu.latency("chat.postMessage", 3)  # longer than a write waits for the lock (2 s)
        done: list[int] = []
        ticking = threading.Thread(target=lambda: done.append(drill_reports.tick(runtime)))
        ticking.start()
        try:
            assert calling.wait(15)
            # While Slack takes its time with the report, a note is saved at once (no "database is busy").
            assert flows.add_entry(runtime, drill.id, ONCALL, EventKind.NOTE, "Debrief at 10:00")
            assert ticking.is_alive()
        finally:
            ticking.join(15)
        assert done == [1]
        assert len(reports(emu, drill.channel_id)) == 1
        notes = [e.text for e in timeline(runtime, drill.id, EventKind.NOTE)]
        assert "Debrief at 10:00" in notes and notes.count("Drill report posted") == 1
        row = _row(runtime)
        assert (row.status, row.attempts, row.claimed_by) == ("posted", 1, None)
    finally:
        close(runtime)


def test_a_drill_report_claim_whose_process_died_is_taken_over_and_posted_once(emu, db_url) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    dead, other = (make_runtime(emu, db_url, guide_policy(), clock) for _ in range(2))
    try:
        drill = declare_drill(dead, resolved_by_a_dead_process=True)
        drill_reports.reconcile(dead, clock.now())
        claimed = posts.claim(dead, drill_reports.KIND, clock.now())  # claimed, then the process "dies"
        assert claimed is not None and claimed.channel_id == drill.channel_id

        clock.advance(claim_lease(other) - timedelta(seconds=1))
        assert drill_reports.tick(other) == 0  # still within the lease: the claim may be alive
        assert reports(emu, drill.channel_id) == []
        clock.advance(timedelta(seconds=2))
        assert drill_reports.tick(other) == 1
        assert drill_reports.tick(other) == 0
        # The first process wakes up: its claim is no longer its own, it records nothing.
        assert posts.record(dead, drill_reports.KIND, claimed, clock.now(), ts="1.000001") is False
        [posted] = reports(emu, drill.channel_id)
        assert "DRILL INC-1 P1: Checkout drill" in posted["text"]
        assert _report_notes(other, drill.id) == ["Drill report posted"]
        row = _row(other)
        assert (row.status, row.attempts, row.message_ts, row.claimed_by) == ("posted", 2, posted["ts"], None)
    finally:
        close(dead)
        close(other)


def test_a_drill_report_whose_incident_is_gone_fails_without_a_post(emu, sqlite_url) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    runtime = make_runtime(emu, sqlite_url, guide_policy(), clock)
    try:
        drill = declare_drill(runtime, resolved_by_a_dead_process=True)
        drill_reports.reconcile(runtime, clock.now())
        with runtime.session() as session:  # a row whose incident is not in the database (any more)
            session.scalars(select(ReportPost)).one().period = "drill-report:999:20261203T090000"
        assert drill_reports.post_due(runtime) == 0
        assert reports(emu, drill.channel_id) == []
        row = _row(runtime)
        assert (row.status, row.attempts, row.error, row.claimed_by) == ("failed", 1, "no_incident", None)
        clock.advance(timedelta(hours=1))
        assert drill_reports.post_due(runtime) == 0 and _row(runtime).status == "failed"
    finally:
        close(runtime)
