"""The weekly post is claimed, sent with no transaction open, then recorded: a slow Slack blocks no
other write, a refused post is tried again and posted once, a claim whose process died is taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.db.engine import create_db_engine, migrate
from bot.db.locks import claim_lease
from bot.incidents.timeline import EventKind
from bot.reports import posts, weekly
from bot.reports.models import ReportPost
from bot.runtime import Runtime
from devkit.slack_emulator import SlackEmulator
from tests.escalation.helpers import close, make_runtime, timeline
from tests.harness import Harness

ANNOUNCE = "C0ANNOUNCE"
POLICY = f"announce_channel: {ANNOUNCE}\n"
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # the week of 2026-11-30 .. 2026-12-07 is due


def _posted_before(runtime: Runtime) -> None:
    """A week posted before, so this week's row is written pending (not skipped as a first one)."""
    with runtime.session() as session:
        session.add(
            ReportPost(
                period="weekly:2026-11-30",
                channel_id=ANNOUNCE,
                since=datetime(2026, 11, 23, 9, tzinfo=UTC),
                until=datetime(2026, 11, 30, 9, tzinfo=UTC),
                status="posted",
                attempts=1,
                next_attempt_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
            )
        )


def _reports(emu: SlackEmulator) -> list[dict]:
    return [m for m in emu.messages(ANNOUNCE) if "Incident report" in str(m.get("text", ""))]


def _this_week(runtime: Runtime) -> ReportPost:
    with runtime.session() as session:
        row = session.scalar(select(ReportPost).where(ReportPost.period == "weekly:2026-12-07"))
        assert row is not None
        return row


def _assert_waits_its_retry(runtime: Runtime, error: str) -> None:
    """The first attempt failed: the post is unclaimed, pending, and waits RETRY_AFTER before the next."""
    row = _this_week(runtime)
    assert (row.status, row.attempts, row.error, row.claimed_by) == ("pending", 1, error, None)
    assert row.next_attempt_at == MONDAY + weekly.RETRY_AFTER


def _when_posting(runtime: Runtime, monkeypatch) -> threading.Event:  # type: ignore[no-untyped-def]
    """Set once the bot has started the weekly post's Slack call (the call itself is unchanged)."""
    calling = threading.Event()
    notify = runtime.warroom.notify

    def spy(channel_id: str, text: str):  # type: ignore[no-untyped-def]
        if channel_id == ANNOUNCE:
            calling.set()
        return notify(channel_id, text)

    monkeypatch.setattr(runtime.warroom, "notify", spy)
    return calling


def test_a_slow_weekly_post_on_sqlite_does_not_block_a_note(sqlite_url: str, monkeypatch) -> None:
    clock = ManualClock(MONDAY)
    with Harness(sqlite_url, policy=load_policy_text(POLICY), clock=clock) as h:
        h.emulator.add_channel("announcements", id=ANNOUNCE)
        incident = h.declare("p1 Checkout returns 502")
        _posted_before(h.runtime)
        calling = _when_posting(h.runtime, monkeypatch)
        h.emulator.latency("chat.postMessage", 3)  # longer than a write waits for the lock (2 s)
        done: list[int] = []
        ticking = threading.Thread(target=lambda: done.append(weekly.tick(h.runtime)))
        ticking.start()
        try:
            assert calling.wait(15)
            # While Slack takes its time with the report, the room goes on writing to the timeline.
            response = h.command("note Rolled back to v1.4.2", channel=incident.channel_id)

            def noted() -> bool:
                return any(
                    e.text == "Rolled back to v1.4.2"
                    for e in timeline(h.runtime, incident.id, EventKind.NOTE)
                )

            h.wait_until(noted, timeout=2.5)
            assert ticking.is_alive()  # the note was saved while the report was still being posted
            assert h.reply(response) == "📝 Noted on the timeline."
        finally:
            ticking.join(15)
        assert done == [1]
        assert len(_reports(h.emulator)) == 1
        row = _this_week(h.runtime)
        assert (row.status, row.attempts, row.claimed_by) == ("posted", 1, None)


def test_a_weekly_post_slack_refused_is_posted_once_after_the_retry(db_url: str) -> None:
    clock = ManualClock(MONDAY)
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id=ANNOUNCE)
        runtime = make_runtime(emu, db_url, load_policy_text(POLICY), clock=clock)
        try:
            _posted_before(runtime)
            emu.fail("chat.postMessage", error="fatal_error", times=1)
            assert weekly.tick(runtime) == 0
            assert _reports(emu) == [] and emu.uploaded_files(ANNOUNCE) == []  # no chart without figures
            _assert_waits_its_retry(runtime, "fatal_error")

            clock.advance(weekly.RETRY_AFTER - timedelta(seconds=1))
            assert weekly.tick(runtime) == 0  # not before its retry
            assert len(emu.calls_to("chat.postMessage")) == 1
            clock.advance(timedelta(seconds=1))
            assert weekly.tick(runtime) == 1
            assert weekly.tick(runtime) == 0
            clock.advance(weekly.RETRY_AFTER * 2)
            assert weekly.tick(runtime) == 0
            [posted] = _reports(emu)
            assert "2026-11-30 → 2026-12-07 (UTC)*" in posted["text"]
            assert len(emu.uploaded_files(ANNOUNCE)) == 1
            row = _this_week(runtime)
            assert (row.status, row.attempts, row.error) == ("posted", 2, None)
            assert row.message_ts == posted["ts"] and row.posted_at == MONDAY + weekly.RETRY_AFTER
        finally:
            close(runtime)


def test_a_weekly_post_refused_every_time_fails_after_its_last_attempt(sqlite_url: str) -> None:
    clock = ManualClock(MONDAY)
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id=ANNOUNCE)
        runtime = make_runtime(emu, sqlite_url, load_policy_text(POLICY), clock=clock)
        try:
            _posted_before(runtime)
            emu.fail("chat.postMessage", error="channel_not_found", times=None)
            for _ in range(weekly.MAX_ATTEMPTS + 2):
                assert weekly.tick(runtime) == 0
                clock.advance(weekly.RETRY_AFTER)
            assert len(emu.calls_to("chat.postMessage")) == weekly.MAX_ATTEMPTS
            row = _this_week(runtime)
            assert (row.status, row.attempts, row.error) == (
                "failed",
                weekly.MAX_ATTEMPTS,
                "channel_not_found",
            )
        finally:
            close(runtime)


def test_a_weekly_claim_whose_process_died_is_taken_over_after_the_lease_and_posted_once(db_url: str) -> None:
    clock = ManualClock(MONDAY)
    policy = load_policy_text(POLICY)
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id=ANNOUNCE)
        dead, other = (make_runtime(emu, db_url, policy, clock=clock) for _ in range(2))
        try:
            _posted_before(dead)
            weekly.plan(dead, clock.now())
            claimed = posts.claim(dead, weekly.KIND, clock.now())  # claimed, then the process "dies"
            assert claimed is not None and claimed.period == "weekly:2026-12-07"
            row = _this_week(dead)
            assert (row.status, row.claimed_by) == ("sending", dead.worker_id)

            clock.advance(claim_lease(other) - timedelta(seconds=1))
            assert weekly.tick(other) == 0  # still within the lease: the claim may be alive
            assert _reports(emu) == []
            clock.advance(timedelta(seconds=2))
            assert weekly.tick(other) == 1
            assert weekly.tick(other) == 0
            # The first process wakes up: its claim is no longer its own, it records nothing.
            assert posts.record(dead, weekly.KIND, claimed, clock.now(), ts="1.000001") is False
            assert posts.record(dead, weekly.KIND, claimed, clock.now(), error="fatal_error") is False
            [posted] = _reports(emu)
            row = _this_week(other)
            assert (row.status, row.attempts, row.message_ts, row.error) == ("posted", 2, posted["ts"], None)
            assert len(emu.uploaded_files(ANNOUNCE)) == 1
        finally:
            close(dead)
            close(other)


def test_report_post_rows_from_before_the_claims_keep_their_state(tmp_path) -> None:
    # The schema against the models: tests/data/test_store.py::test_migrations_match_models.
    old = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate(old, "0009")
        with old.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO report_posts (period, channel_id, since, until, status, attempts,"
                " next_attempt_at, error) VALUES ('weekly:2026-12-07', 'C0ANNOUNCE', '2026-11-30 09:00:00',"
                " '2026-12-07 09:00:00', 'pending', 3, '2026-12-07 09:15:00', 'ratelimited')"
            )
        migrate(old)
        with old.begin() as connection:
            rows = connection.execute(
                sa.text("SELECT period, status, attempts, error, claimed_at, claimed_by FROM report_posts")
            )
            assert [tuple(r) for r in rows] == [
                ("weekly:2026-12-07", "pending", 3, "ratelimited", None, None)
            ]
    finally:
        old.dispose()


def test_a_report_that_cannot_be_built_is_tried_again_after_its_backoff_not_after_every_lease(
    sqlite_url: str, monkeypatch
) -> None:
    clock = ManualClock(MONDAY)
    with SlackEmulator() as emu:
        emu.add_channel("announcements", id=ANNOUNCE)
        runtime = make_runtime(emu, sqlite_url, load_policy_text(POLICY), clock=clock)
        try:
            _posted_before(runtime)

            def broken_chart(report: object) -> bytes:
                raise RuntimeError("matplotlib broke")

            monkeypatch.setattr(weekly.render, "chart_png", broken_chart)  # a bug, not a fault
            with pytest.raises(RuntimeError):
                weekly.tick(runtime)
            assert _reports(emu) == []
            _assert_waits_its_retry(runtime, "RuntimeError")

            monkeypatch.undo()
            clock.advance(weekly.RETRY_AFTER)
            assert weekly.tick(runtime) == 1
            assert len(_reports(emu)) == 1 and _this_week(runtime).status == "posted"
        finally:
            close(runtime)
