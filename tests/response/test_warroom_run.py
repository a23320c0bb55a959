"""The response clock in real `warroom run` processes with budgets of seconds (issue 14 item 3):
a nudge once in the room, the summary marked, a timeline row; a status reminder DM to the commander
that updates silence; two replicas never nudge twice; SIGKILL between claim and send loses nothing."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.config.loader import load_policy_text
from bot.incidents.models import Incident, TimelineEvent
from bot.response import timers as response_timers
from bot.response.models import ResponseTimer
from tests.escalation.helpers import ONCALL, REPORTER, seed_open_incidents
from tests.escalation.processes import BotProcess
from tests.response.helpers import nudges, reminders, summary_text
from tests.setup_faults.support import room_complete, rows, write_config

pytestmark = [pytest.mark.slow]

NO_OTHER_STEPS = (
    "start: {budget: null}, stop_loss: {budget: null}, verify: {budget: null}, review: {budget: null}"
)
CLOCK = f"""
escalation:
  tiers:
    - {{name: tier1, targets: [{ONCALL}], timeout: 10m}}
response_steps: {{confirm: {{budget: 2s}}, {NO_OTHER_STEPS}}}
status_reminders: {{p1: 4s}}
"""


def _clock_events(db_url: str) -> list[TimelineEvent]:
    return rows(db_url, TimelineEvent, TimelineEvent.kind == "response_clock")


def test_nudge_summary_timeline_and_a_reminder_that_updates_silence(emu, db_url, tmp_path) -> None:
    bot = BotProcess("clock", emu, db_url, write_config(tmp_path, CLOCK), tmp_path).wait_healthy()
    try:
        assert bot.driver.command("/incident", "p1 Checkout returns 502", user_id=REPORTER).status == 200
        room = emu.wait_for(lambda: room_complete(emu, 1, REPORTER), timeout=15, interval=0.1)
        assert bot.driver.command("/incident", "ack", user_id=ONCALL, channel_id=room.id).status == 200

        [nudge] = emu.wait_for(lambda: nudges(emu, room.id, "Confirm the incident"), timeout=10)
        assert "past its 2s budget" in nudge
        emu.wait_for(lambda: "⏰ *Overdue:* Confirm the incident" in summary_text(emu, room.id), timeout=5)
        [dm] = emu.wait_for(lambda: reminders(emu.dms(ONCALL)), timeout=10)
        assert "No status update on *INC-1*" in dm
        # Updates every second or so (under the 4 s interval): no reminder while they keep coming.
        for n in range(5):
            bot.driver.command("/incident", f"status step {n}", user_id=ONCALL, channel_id=room.id)
            time.sleep(1)
        assert len(reminders(emu.dms(ONCALL))) == 1
        assert len(nudges(emu, room.id)) == 1  # once, however many ticks ran since
        emu.wait_for(lambda: len(reminders(emu.dms(ONCALL))) == 2, timeout=12)  # quiet again: reminded
        texts = emu.wait_for(  # recorded just after the DM went out
            lambda: [e.text for e in _clock_events(db_url)] if len(_clock_events(db_url)) == 3 else None,
            timeout=5,
        )
        assert any("Confirm the incident is overdue" in t for t in texts)
        assert len([t for t in texts if t.startswith("Status reminder sent to")]) == 2
    finally:
        bot.stop()


REPLICAS = f"""
escalation:
  tiers:
    - {{name: tier1, targets: [{ONCALL}], timeout: 10m}}
response_steps: {{confirm: {{budget: 2s}}, {NO_OTHER_STEPS}}}
status_reminders: {{p2: null}}
"""


def _seed(db_url: str, channels: list[str]) -> list[int]:
    """Open incidents with rooms, declared now, their clocks armed as the declare flow does."""
    policy = load_policy_text(REPLICAS)
    return seed_open_incidents(
        db_url,
        policy,
        channels,
        datetime.now(UTC),
        "clock",
        lambda session, incident: response_timers.plan(session, incident, policy),
    )


@pytest.mark.postgres
def test_two_replicas_nudge_each_room_exactly_once(emu, pg_url, tmp_path) -> None:
    config = write_config(tmp_path, REPLICAS)
    replicas = [BotProcess(name, emu, pg_url, config, tmp_path) for name in ("replica-a", "replica-b")]
    try:
        for bot in replicas:
            bot.wait_healthy()
        channels = [emu.add_channel(f"inc-clock-{n}").id for n in range(60)]
        _seed(pg_url, channels)
        emu.wait_for(
            lambda: all(nudges(emu, c, "Confirm the incident") for c in channels), timeout=30, interval=0.25
        )
        time.sleep(2.5)  # both replicas tick on: nothing more may go out
        counts = Counter(len(nudges(emu, c)) for c in channels)
        assert counts == {1: len(channels)}, counts
        timers = rows(pg_url, ResponseTimer)
        assert {t.status for t in timers} == {"sent"} and len(timers) == len(channels)
        assert len(_clock_events(pg_url)) == len(channels)
    finally:
        for bot in replicas:
            bot.stop()


def test_sigkill_between_claim_and_send_still_nudges_once_after_restart(
    emu, db_url, tmp_path, monkeypatch
) -> None:
    # Slack calls time out after 1 s here, so a dead process's claim is free after the 10 s minimum lease.
    monkeypatch.setenv("SLACK_TIMEOUT_SECONDS", "1")
    config = write_config(tmp_path, CLOCK.replace("{p1: 4s}", "{p1: null}").replace("2s", "4s"))
    first = BotProcess("first", emu, db_url, config, tmp_path).wait_healthy()
    second = None
    try:
        assert first.driver.command("/incident", "p1 Cart is empty", user_id=REPORTER).status == 200
        room = emu.wait_for(lambda: room_complete(emu, 1, REPORTER), timeout=15, interval=0.1)
        # Every post hangs, then fails: the nudge never reaches the room from this process.
        emu.latency("chat.postMessage", 2.0)
        emu.fail("chat.postMessage", 500, times=None)
        emu.wait_for(
            lambda: [t for t in rows(db_url, ResponseTimer) if t.status == "sending"],
            timeout=15,
            interval=0.05,
        )
        first.kill()
        killed = time.monotonic()
        time.sleep(2.5)  # the hung call ends (failed) while nobody runs
        emu.clear_faults()
        assert nudges(emu, room.id) == []
        [claimed] = rows(db_url, ResponseTimer)
        assert claimed.status == "sending" and claimed.attempts == 1

        second = BotProcess("second", emu, db_url, config, tmp_path).wait_healthy()
        emu.wait_for(lambda: nudges(emu, room.id), timeout=60, interval=0.25)  # after the lease
        took = time.monotonic() - killed
        time.sleep(2.5)
        assert len(nudges(emu, room.id, "Confirm the incident")) == 1
        [timer] = rows(db_url, ResponseTimer)
        assert timer.status == "sent" and timer.attempts == 2
        assert len(_clock_events(db_url)) == 1
        [incident] = rows(db_url, Incident)
        assert incident.channel_id == room.id
        print(f"nudge delivered {took:.1f}s after the SIGKILL (lease 10s)")
    finally:
        first.stop()
        if second is not None:
            second.stop()
