"""The weekly report post (a row per week, once across replicas) and `/incident report` over signed HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.config.reports import ReportsConfig
from bot.reports import weekly
from bot.reports.models import ReportPost
from devkit.slack_emulator import SlackEmulator, blocks_to_text
from tests.escalation.helpers import close, make_runtime
from tests.harness import Harness
from tests.reports.test_reports import seed


def test_week_slot_is_the_latest_monday_nine_utc() -> None:
    assert weekly.week_slot(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )
    assert weekly.week_slot(datetime(2026, 12, 7, 8, 59, tzinfo=UTC)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )
    assert weekly.week_slot(datetime(2026, 12, 3, 12, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )


def test_week_slot_follows_reports_weekly_at_in_its_time_zone() -> None:
    shanghai = ReportsConfig(weekly_at="mon 09:30", timezone="Asia/Shanghai")
    monday_0930_cst = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    assert weekly.week_slot(monday_0930_cst, shanghai) == monday_0930_cst
    assert weekly.week_slot(monday_0930_cst - timedelta(seconds=1), shanghai) == monday_0930_cst - timedelta(
        days=7
    )
    # Berlin, Sunday 02:30 on 2026-03-29 falls in the spring-forward gap: read with the offset before
    # it (CET, +1), as rotations read hand-offs; the week after, 02:30 CEST is 00:30 UTC.
    berlin = ReportsConfig(weekly_at="sun 02:30", timezone="Europe/Berlin")
    assert weekly.week_slot(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), berlin) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    assert weekly.week_slot(datetime(2026, 4, 5, 12, 0, tzinfo=UTC), berlin) == datetime(
        2026, 4, 5, 0, 30, tzinfo=UTC
    )


def test_no_weekly_post_when_turned_off(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 12, 7, 10, tzinfo=UTC))
    off = load_policy_text("announce_channel: C0ANNOUNCE\nreports: {weekly: false}\n")
    on = load_policy_text("announce_channel: C0ANNOUNCE\n")
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id="C0ANNOUNCE")
        runtimes = [make_runtime(emu, sqlite_url, policy, clock=clock) for policy in (off, on)]
        try:
            with runtimes[0].session() as session:  # a week was posted before: this one is due
                session.add(
                    ReportPost(
                        period="weekly:2026-11-30",
                        channel_id="C0ANNOUNCE",
                        since=datetime(2026, 11, 23, 9, tzinfo=UTC),
                        until=datetime(2026, 11, 30, 9, tzinfo=UTC),
                        status="posted",
                        next_attempt_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
                    )
                )
            assert weekly.tick(runtimes[0]) == 0 and _posts(emu) == []
            assert weekly.tick(runtimes[1]) == 1 and len(_posts(emu)) == 1
        finally:
            for runtime in runtimes:
                close(runtime)


def test_the_weekly_report_is_posted_once_by_two_replicas(pg_url: str) -> None:
    seed(pg_url)  # incidents of 2026-11-27 .. 2026-12-01: in the week before Monday 2026-12-07
    policy = load_policy_text("announce_channel: C0ANNOUNCE\n")
    clock = ManualClock(datetime(2026, 12, 7, 8, 59, tzinfo=UTC))
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id="C0ANNOUNCE")
        replicas = [make_runtime(emu, pg_url, policy, clock=clock) for _ in range(2)]
        try:
            # The first slot a bot sees is not posted (no "last week" on the day it is installed).
            clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
            assert [weekly.tick(r) for r in replicas] == [0, 0] and _posts(emu) == []
            # Before 09:00 on the 7th the due slot is 2026-11-30 09:00 (covering 11-23 .. 11-30): one post
            # (late: the bot was down on Monday the 30th).
            clock.set(datetime(2026, 12, 7, 8, 59, tzinfo=UTC))
            assert [weekly.tick(r) for r in replicas] == [1, 0]
            [first] = _posts(emu)
            assert "2026-11-23 → 2026-11-30 (UTC)* — 6 incident(s)" in first
            assert "*P1* 严重 major: 5 — ack 10m (p90 1h 30m), 4/5 within 1h" in first
            assert "mitigate 40m (p90 1h) · resolve 2h (p90 4h)" in first
            assert "INC-5 P1 p1 at 27 13:00 — acknowledged after 1h 30m (target 1h) #C0LATE" in first

            # Monday 09:00: the new week's row, raced by both replicas at once — posted once.
            clock.set(datetime(2026, 12, 7, 9, 0, 1, tzinfo=UTC))
            with ThreadPoolExecutor(2) as pool:
                done = list(pool.map(weekly.tick, replicas))
            assert sorted(done) == [0, 1]
            for runtime in replicas:
                assert weekly.tick(runtime) == 0
            clock.advance(timedelta(days=1))
            assert [weekly.tick(r) for r in replicas] == [0, 0]
            posts = _posts(emu)
            assert len(posts) == 2
            second = posts[1]
            assert "2026-11-30 → 2026-12-07 (UTC)* — 1 incident(s)" in second
            assert "INC-7 P0 p0 at 01 08:00 — never acknowledged (target 15m) #C0NEVER" in second
            assert "C0DRILL" not in first + second
            assert len(emu.uploaded_files("C0ANNOUNCE")) == 2  # a chart with each post
        finally:
            for runtime in replicas:
                close(runtime)


def test_incident_report_posts_the_figures_and_a_chart(sqlite_url: str) -> None:
    seed(sqlite_url)
    clock = ManualClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    with Harness(sqlite_url, clock=clock) as h:
        h.emulator.add_channel("ops", id="C0OPS", members=[h.alice])
        [posted] = h.command("report week", channel="C0OPS").wait_responses(1, timeout=15)
        assert posted.get("response_type") == "in_channel"
        text = blocks_to_text(posted.get("blocks"), posted.get("text"))
        assert "Incident report 2026-11-26 → 2026-12-03 (UTC)* — 7 incident(s)" in text
        assert "*P0* 紧急 critical: 2 — ack 10m (p90 10m), 1/2 within 15m" in text
        h.emulator.wait_for(lambda: h.emulator.uploaded_files("C0OPS"), timeout=10)
        assert "`/incident report week` or `/incident report month`: which period?" in h.reply(
            h.command("report year", channel="C0OPS")
        )


def _posts(emu: SlackEmulator) -> list[str]:
    return [
        blocks_to_text(m.get("blocks"), m.get("text"))
        for m in emu.messages("C0ANNOUNCE")
        if "Incident report" in str(m.get("text", ""))
    ]
