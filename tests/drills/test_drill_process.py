"""A drill end to end with a real `warroom run` process and the Slack emulator: the room, the DRILL
page, the report on resolve — and nothing of it in /metrics."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request

from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import GUIDE_POLICY, LEAD, ONCALL, REPORTER, pages
from tests.escalation.processes import BotProcess


def _scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as reply:
        return reply.read().decode()


def _value(body: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} ([0-9.e+]+)$", body, re.MULTILINE)
    assert match, f"{series} not in /metrics"
    return float(match.group(1))


def test_a_drill_in_a_real_warroom_run(emu, tmp_path) -> None:
    config = tmp_path / "warroom.yml"
    config.write_text(GUIDE_POLICY)
    db = f"sqlite:///{tmp_path / 'warroom.db'}"
    bot = BotProcess("drill", emu, db, config, tmp_path).wait_healthy()
    try:
        assert bot.driver.command("/incident", "drill p0 Payments down", user_id=REPORTER).status == 200
        room = emu.wait_for(lambda: emu.find_channel_prefix("drill-"), timeout=15)
        assert re.fullmatch(r"drill-\d{8}-1-payments-down", room.name), room.name
        [page] = emu.wait_for(lambda: pages(emu, ONCALL), timeout=10)
        assert "DRILL INC-1 P0" in page["text"] and "DRILL INC-1" in blocks_to_text(page["blocks"])
        emu.wait_for(lambda: ONCALL in emu.channels[room.id].members, timeout=10)

        assert bot.driver.command("/incident", "ack", user_id=ONCALL, channel_id=room.id).status == 200
        emu.wait_for(lambda: _said(emu, room.id, "acknowledged"), timeout=10)
        assert bot.driver.command("/incident", "resolve", user_id=ONCALL, channel_id=room.id).status == 200
        report = emu.wait_for(lambda: _said(emu, room.id, "Drill report"), timeout=15)
        assert "DRILL INC-1 P0: Payments down" in report
        assert "tier1 (loop 1) paged at +" in report and "✅ acknowledged after" in report
        assert f"acknowledged by @{ONCALL}" in report and "tier2: not reached" in report
        assert not pages(emu, LEAD)

        # A page was delivered and an incident declared — in a drill, so none of it is counted.
        body = _scrape(bot.url)
        assert _value(body, 'warroom_pages_sent_total{channel="slack"}') == 0
        assert _value(body, 'warroom_incidents_declared_total{severity="p0"}') == 0
        assert _value(body, 'warroom_incidents_open{severity="p0"}') == 0

        # Nor in reports: the CLI over the same database counts no incident, and misses no target.
        report = subprocess.run(  # fixed arguments, no user text
            [*warroom_command(), "report", "--since", "1d", "--format", "csv"],
            env={**os.environ, "DATABASE_URL": db, "WARROOM_CONFIG": str(config)},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.splitlines()
        assert report[1] == "p0,0,900,0,0,0,,,0,,,0,,", report
    finally:
        bot.stop()


def warroom_command() -> list[str]:
    exe = shutil.which("warroom", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "bot.cli"]


def _said(emu, channel_id: str, needle: str) -> str | None:  # type: ignore[no-untyped-def]
    for message in emu.messages(channel_id):
        text = blocks_to_text(message.get("blocks"), message.get("text"))
        if needle in text:
            return text
    return None
