"""`/incident drill` over signed HTTP on a fake clock: the real response, marked DRILL, reported on resolve,
kept out of `/incident list` and /metrics."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.escalation import engine
from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import DIRECTOR, LEAD, ONCALL, guide_policy, pages, seed_users
from tests.harness import Harness


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as reply:
        body = reply.read().decode()
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_drill_runs_the_real_ladder_marked_drill_and_ends_with_a_report(db_url: str) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    with Harness(db_url, policy=guide_policy(), clock=clock) as h:
        seed_users(h.emulator)
        sent_before = _metric(h.url, 'warroom_pages_sent_total{channel="slack"}')
        declared_before = _metric(h.url, 'warroom_incidents_declared_total{severity="p1"}')
        acked = 'warroom_response_seconds_count{severity="p1",step="acknowledge"}'
        acked_before = _metric(h.url, acked)

        answer = h.reply(h.command("drill p1 Checkout returns 502"), timeout=15)
        assert "DRILL INC-1" in answer, answer
        room = h.emulator.wait_for(lambda: h.emulator.find_channel_prefix("drill-"), timeout=10)
        assert room.name == "drill-20261203-1-checkout-returns-502"
        assert h.emulator.find_channel_prefix("inc-") is None

        # The real ladder: tier 1 at once, tier 2 after tier 1's 15 minutes — each page says DRILL.
        engine.run_due(h.runtime)
        [first] = pages(h.emulator, ONCALL, 1)
        assert "DRILL INC-1" in first["text"] and "DRILL INC-1" in blocks_to_text(first["blocks"])
        clock.advance(timedelta(minutes=15))
        engine.run_due(h.runtime)
        [second] = pages(h.emulator, LEAD, 1)
        assert "DRILL INC-1" in blocks_to_text(second["blocks"])

        # Listed apart: not among open incidents, only under `list drills`.
        [listed] = h.command("list").wait_responses(1, timeout=5)
        listed_text = blocks_to_text(listed.get("blocks"), listed.get("text"))
        assert "No open incidents" in listed_text and "INC-1" not in listed_text
        assert "1 drill(s) running, not listed here: `/incident list drills`" in listed_text
        [posted] = h.command("list drills").wait_responses(1, timeout=5)
        drills = blocks_to_text(posted.get("blocks"), posted.get("text"))
        assert f"*DRILL INC-1* P1 Checkout returns 502 — declared — #{room.id}" in drills

        clock.advance(timedelta(minutes=4, seconds=30))
        h.reply(h.command("ack", user=LEAD, channel=room.id))
        drill = h.latest_incident()
        # The step clock: "stop the loss" ticked at +19m 30s (budget 15m), "verify" at +29m 30s (45m).
        h.driver.block_action(LEAD, room.id, drill.checklist_ts, "incident_checklist", value=f"{drill.id}:2")
        h.wait_idle()
        clock.advance(timedelta(minutes=10))
        h.driver.block_action(LEAD, room.id, drill.checklist_ts, "incident_checklist", value=f"{drill.id}:4")
        h.wait_idle()
        h.reply(h.command("resolve", user=LEAD, channel=room.id))
        report = h.emulator.wait_for(
            lambda: next((t for t in _texts(h, room.id) if "Drill report" in t), None), timeout=10
        )
        assert "DRILL INC-1 P1: Checkout returns 502" in report
        assert "tier1 (loop 1) paged at +0s: @U0ONCALL — ❌ no acknowledgement within 15m" in report
        assert "tier2 (loop 1) paged at +15m: @U0LEAD — ✅ acknowledged after 4m 30s (budget 30m)" in report
        assert "tier3: not reached" in report
        assert "Confirm the incident (budget 2m): ❌ still open when the drill ended, 27m 30s over" in report
        assert "Stop the loss (budget 15m): ❌ done at +19m 30s, 4m 30s over" in report
        assert "Find the root cause (no clock): open" in report
        assert "Fix and verify (budget 45m): ✅ done at +29m 30s" in report
        assert "Review (budget 3d): ⏳ open, within its budget" in report
        assert "Stop the loss ran 4m 30s over its budget of 15m." in report
        assert "acknowledged by @U0LEAD at +19m 30s (response target 1h)" in report
        assert "resolved at +29m 30s" in report
        assert "tier1 did not acknowledge within 15m." in report
        assert "response target" not in report.split("*Missed*")[1]  # 19m 30s < 1h: met
        assert not pages(h.emulator, DIRECTOR)

        # Nothing of it in /metrics.
        assert _metric(h.url, 'warroom_pages_sent_total{channel="slack"}') == sent_before
        assert _metric(h.url, 'warroom_incidents_declared_total{severity="p1"}') == declared_before
        assert _metric(h.url, 'warroom_incidents_open{severity="p1"}') == 0
        assert _metric(h.url, acked) == acked_before

        # The same for a real incident is counted: the comparison above can fail.
        incident = h.declare("p1 Search is slow")
        h.reply(h.command("ack", user=LEAD, channel=incident.channel_id))
        assert _metric(h.url, acked) == acked_before + 1
        assert _metric(h.url, 'warroom_incidents_declared_total{severity="p1"}') == declared_before + 1


def test_a_drill_needs_a_severity_and_a_title(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        assert "A drill needs a severity and a title" in h.reply(h.command("drill checkout"))
        assert h.latest_incident() is None


def _texts(h: Harness, channel_id: str) -> list[str]:
    return [blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.messages(channel_id)]


def test_in_chinese_the_page_says_演练(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    with Harness(sqlite_url, policy=guide_policy("language: zh\n"), clock=clock) as h:
        seed_users(h.emulator)
        h.reply(h.command("drill p2 Search is slow"), timeout=15)
        room = h.emulator.wait_for(lambda: h.emulator.find_channel_prefix("drill-"), timeout=10)
        assert room.name == "drill-20261203-1-search-is-slow"
        engine.run_due(h.runtime)
        [page] = pages(h.emulator, ONCALL, 1)
        assert "演练 INC-1" in page["text"] and "DRILL" not in page["text"]
        h.reply(h.command("resolve", user=ONCALL, channel=room.id))
        report = h.emulator.wait_for(
            lambda: next((t for t in _texts(h, room.id) if "演练报告" in t), None), timeout=10
        )
        assert "tier1（第 1 轮）于 +0s 呼叫：@U0ONCALL" in report and "• 无人确认" in report


def test_a_diag_run_in_a_drill_room_is_not_counted(sqlite_url: str) -> None:
    from bot.audit.record import record_diagnostic
    from bot.diagnostics import flows as diag_flows

    with Harness(sqlite_url, policy=guide_policy()) as h:
        seed_users(h.emulator)
        h.reply(h.command("drill p3 Disk filling"), timeout=15)
        drill_room = h.emulator.wait_for(lambda: h.emulator.find_channel_prefix("drill-"), timeout=10)
        real = h.declare("p3 Disk filling for real")
        command = diag_flows.parse(h.runtime.policy, "tcp 127.0.0.1:9")  # a closed port: a real run
        result = diag_flows.run(h.runtime.policy, command)
        series = f'warroom_diag_runs_total{{adapter="tcp",outcome="{result.outcome}"}}'
        before = _metric(h.url, series)
        record_diagnostic(h.runtime, result, actor=h.alice, channel_id=drill_room.id)
        assert _metric(h.url, series) == before
        record_diagnostic(h.runtime, result, actor=h.alice, channel_id=real.channel_id)
        assert _metric(h.url, series) == before + 1


def test_the_declare_form_declares_a_drill_when_its_box_is_ticked(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        h.command("")
        modal = h.emulator.wait_for(lambda: h.emulator.open_modals(h.alice), timeout=5)[-1]
        box = next(b for b in modal["blocks"] if b.get("block_id") == "drill")
        assert box["optional"] is True and box["element"]["type"] == "checkboxes"
        assert all(len(o["description"]["text"]) <= 75 for o in box["element"]["options"])  # Slack's limit
        state = {
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "p2"}}},
            "title": {"value": {"type": "plain_text_input", "value": "Failover rehearsal"}},
            "drill": {"value": {"type": "checkboxes", "selected_options": [{"value": "drill"}]}},
        }
        h.driver.view_submission(h.alice, "declare_incident", state, private_metadata="C_GENERAL")
        room = h.emulator.wait_for(lambda: h.emulator.find_channel_prefix("drill-"), timeout=10)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.is_drill and incident.title == "Failover rehearsal"
        assert room.name.endswith("-failover-rehearsal")

        # Unticked, the same form declares a real incident.
        h.command("")
        h.emulator.wait_for(lambda: len(h.emulator.open_modals(h.alice)) >= 1, timeout=5)
        state["title"] = {"value": {"type": "plain_text_input", "value": "Checkout returns 502"}}
        state["drill"] = {"value": {"type": "checkboxes", "selected_options": []}}
        h.driver.view_submission(h.alice, "declare_incident", state, private_metadata="C_GENERAL")
        real = h.emulator.wait_for(
            lambda: (i := h.latest_incident()) is not None and i.title == "Checkout returns 502" and i,
            timeout=10,
        )
        assert real.is_drill is False
