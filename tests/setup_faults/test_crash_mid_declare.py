"""Issue 9 items 1–2: a real `warroom run` killed (SIGKILL) or stopped (SIGTERM, as in every deploy)
while Slack is still creating the war room. After the restart there is exactly one room, with its
pinned summary and checklist, the reporter in it, and tier 1 was paged exactly once."""

from __future__ import annotations

import signal
import time

import pytest

from bot.incidents.models import Incident, SetupStep
from tests.escalation.helpers import LEAD, ONCALL, REPORTER
from tests.escalation.processes import BotProcess
from tests.setup_faults.support import pages, room_complete, rooms, rows, write_config

pytestmark = [pytest.mark.slow]

SLOW_LADDER = f"""
escalation:
  tiers:
    - {{name: tier1, targets: [{ONCALL}], timeout: 10m}}
    - {{name: tier2, targets: [{LEAD}], timeout: 10m}}
"""


def _room_in_flight(db_url: str) -> bool:
    return any(r.step == "room" and r.status == "running" for r in rows(db_url, SetupStep))


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_stopped_mid_declare_then_restarted_makes_one_room_and_pages_once(emu, db_url, tmp_path, how) -> None:
    config = write_config(tmp_path, SLOW_LADDER)
    first = BotProcess("first", emu, db_url, config, tmp_path).wait_healthy()
    second = None
    try:
        emu.latency("conversations.create", 3.0)  # Slack makes the channel 3 s after we asked
        assert first.driver.command("/incident", "p1 Checkout returns 502", user_id=REPORTER).status == 200
        emu.wait_for(lambda: _room_in_flight(db_url), timeout=15, interval=0.05)
        emu.wait_for(lambda: pages(emu, ONCALL), timeout=15)  # the page did not wait for the room
        if how == "SIGKILL":
            first.kill()
        else:
            started = time.monotonic()
            first.process.send_signal(signal.SIGTERM)
            assert first.process.wait(25) == 0
            log = first.log()
            assert "cannot schedule new futures" not in log and "Traceback" not in log, log
            print(f"SIGTERM: exited {time.monotonic() - started:.1f}s after the signal")
        emu.clear_faults()

        second = BotProcess("second", emu, db_url, config, tmp_path).wait_healthy()
        room = emu.wait_for(lambda: room_complete(emu, 1, REPORTER), timeout=60, interval=0.2)
        time.sleep(1.5)  # a few more ticks: nothing else may be made
        assert len(rooms(emu, 1)) == 1  # adopted (SIGKILL) or recorded before exit (SIGTERM): never two
        assert ONCALL in room.members
        assert len(pages(emu, ONCALL)) == 1
        [incident] = rows(db_url, Incident)
        assert incident.channel_id == room.id and incident.setup_errors == []
        assert {r.status for r in rows(db_url, SetupStep)} == {"done"}
    finally:
        first.stop()
        if second is not None:
            second.stop()
