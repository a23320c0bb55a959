"""The drill report is a durable post: a Slack failure is retried by the tick, a resolve whose hook
never ran still gets its report, and nothing is posted twice — two replicas included."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.drills import flows as drill_reports
from bot.incidents import flows
from bot.reports.models import ReportPost
from tests.drills.helpers import declare_drill, reports
from tests.escalation.helpers import ONCALL, close, guide_policy, make_runtime


def test_a_report_slack_refused_is_posted_by_the_tick_once(emu, db_url) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        drill = declare_drill(runtime)
        emu.fail("chat.postMessage", error="fatal_error", times=None)
        flows.change_status(runtime, drill.id, ONCALL, "resolved")
        emu.clear_faults()
        assert reports(emu, drill.channel_id) == []
        with runtime.session() as session:
            [row] = session.scalars(select(ReportPost)).all()
            assert (row.status, row.attempts, row.error) == ("pending", 1, "fatal_error")

        assert drill_reports.tick(runtime) == 0  # not before its backoff
        clock.advance(timedelta(seconds=3))
        assert drill_reports.tick(runtime) == 1
        assert drill_reports.tick(runtime) == 0
        [report] = reports(emu, drill.channel_id)
        assert "DRILL INC-1 P1: Checkout drill" in report["text"]
    finally:
        close(runtime)


def test_a_resolve_whose_hook_never_ran_gets_its_report_from_one_of_two_replicas(emu, pg_url) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    replicas = [make_runtime(emu, pg_url, guide_policy(), clock) for _ in range(2)]
    try:
        drill = declare_drill(replicas[0])
        replicas[0].hooks.clear()  # the process died between the resolve's commit and its hook
        flows.change_status(replicas[0], drill.id, ONCALL, "resolved")
        assert reports(emu, drill.channel_id) == []
        with ThreadPoolExecutor(2) as pool:
            posted = list(pool.map(drill_reports.tick, replicas))
        assert sum(posted) == 1
        assert [drill_reports.tick(r) for r in replicas] == [0, 0]
        assert len(reports(emu, drill.channel_id)) == 1
    finally:
        for runtime in replicas:
            close(runtime)
