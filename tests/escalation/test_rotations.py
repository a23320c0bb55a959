"""Rotations: who is on call at a moment, with handoffs at local wall-clock time across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.config.policy import Rotation
from bot.escalation import engine
from bot.escalation.rotations import on_call, shift_at
from tests.escalation.helpers import LEAD, ONCALL, close, declare, make_runtime, outbox, pages

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_weekly_handoff_stays_at_ten_local_across_the_spring_change() -> None:
    # Europe/Berlin moves from +01:00 to +02:00 on Sunday 2026-03-29.
    rotation = Rotation(users=["U01", "U02"], handoff="mon 10:00", timezone="Europe/Berlin", every="1w")
    before = shift_at(rotation, local(BERLIN, 2026, 3, 25, 12, 0))
    assert before.starts.astimezone(BERLIN) == local(BERLIN, 2026, 3, 23, 10, 0)
    assert before.ends.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 10, 0)
    assert before.ends - before.starts == timedelta(hours=167)  # the week that loses an hour
    # 09:59 local on the Monday after the change is still the old shift; 10:00 is the new one.
    assert on_call(rotation, local(BERLIN, 2026, 3, 30, 9, 59)) == before.user_id
    after = shift_at(rotation, local(BERLIN, 2026, 3, 30, 10, 0))
    assert after.user_id != before.user_id and after.index == before.index + 1
    assert after.starts == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_daily_handoff_across_the_autumn_change_and_its_repeated_hour() -> None:
    # America/New_York falls back from -04:00 to -05:00 at 02:00 on Sunday 2026-11-01.
    rotation = Rotation(users=["U01", "U02", "U03"], handoff="09:00", timezone="America/New_York", every="1d")
    saturday = shift_at(rotation, local(NEW_YORK, 2026, 10, 31, 12, 0))
    sunday = shift_at(rotation, local(NEW_YORK, 2026, 11, 1, 12, 0))
    assert sunday.index == saturday.index + 1
    assert saturday.ends == sunday.starts == local(NEW_YORK, 2026, 11, 1, 9, 0)
    assert sunday.starts - saturday.starts == timedelta(hours=25)  # the day that gains an hour
    # Both occurrences of 01:30 (fold 0 and 1) are inside Saturday's shift.
    for fold in (0, 1):
        moment = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=NEW_YORK)
        assert shift_at(rotation, moment).index == saturday.index


def test_rotation_order_start_date_and_a_handoff_in_the_skipped_hour() -> None:
    rotation = Rotation(
        users=["U01", "U02", "U03"],
        handoff="sun 02:30",
        timezone="Europe/Berlin",
        every="1w",
        start="2026-03-01",
    )
    # 2026-03-01 is a Sunday: U1 from then, U2 a week later, U3, then U1 again.
    assert on_call(rotation, local(BERLIN, 2026, 3, 1, 2, 30)) == "U01"
    assert on_call(rotation, local(BERLIN, 2026, 3, 8, 3, 0)) == "U02"
    assert on_call(rotation, local(BERLIN, 2026, 3, 15, 3, 0)) == "U03"
    # 02:30 does not exist on 2026-03-29 in Berlin; the handoff happens when the clock jumps (03:30 CEST).
    assert on_call(rotation, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "U01"
    assert shift_at(rotation, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)).user_id == "U02"
    assert on_call(rotation, local(BERLIN, 2026, 2, 28, 12, 0)) == "U03"  # before the start, counting back


def test_a_ladder_tier_pages_whoever_is_on_call_when_it_falls_due(emu, db_url) -> None:
    # Handoff on Sunday 03:00 Berlin, right after the spring change; tier 2 falls due across it.
    policy = load_policy_text(
        f"""
escalation:
  tiers:
    - {{name: tier1, targets: ["rotation:primary"], timeout: 30m}}
    - {{name: tier2, targets: ["rotation:primary"], timeout: 30m}}
rotations:
  primary: {{users: [{ONCALL}, {LEAD}], handoff: "sun 03:00", timezone: Europe/Berlin, every: 1w}}
"""
    )
    clock = ManualClock(local(BERLIN, 2026, 3, 29, 1, 45))  # 01:45 CET; 03:00 CEST is 45 min later
    runtime = make_runtime(emu, db_url, policy, clock)
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        clock.advance(timedelta(minutes=30))  # 02:15 UTC+1 == 03:15 CEST: past the handoff
        engine.run_due(runtime)
        first, second = (
            on_call(policy.rotations["primary"], m) for m in (local(BERLIN, 2026, 3, 29, 1, 45), clock.now())
        )
        assert first != second
        assert len(pages(emu, first, incident.id)) == 1 and len(pages(emu, second, incident.id)) == 1
        assert [(r.tier_name, r.target) for r in outbox(runtime, incident.id) if r.kind == "page"] == [
            ("tier1", first),
            ("tier2", second),
        ]
    finally:
        close(runtime)
