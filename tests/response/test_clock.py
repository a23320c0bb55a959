"""The response clock on a fake clock, through the real app and the Slack emulator (issue 14 item 2).

A step open past its budget is nudged once in the room, marked ⏰ on the summary and the checklist,
and put on the timeline; ticking it later records how late. Status reminders go to the commander
(or the room) after the severity's interval without an update, and each update pushes them out.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.db.locks import claim_lease
from bot.i18n import use_language
from bot.incidents import flows
from bot.incidents.timeline import event_text
from bot.response import tick
from tests.harness import Harness
from tests.response.helpers import (
    checklist_text,
    clock_events,
    items,
    nudges,
    reminders,
    summary_text,
    timers,
)

POLICY = """
escalation:
  tiers:
    - {name: tier1, targets: [U0BOB], timeout: 1h}
"""


def _harness(db_url: str, clock: ManualClock, extra: str = "") -> Harness:
    return Harness(db_url, policy=load_policy_text(POLICY + extra), clock=clock)


def test_a_step_over_budget_is_nudged_once_marked_and_put_on_the_timeline(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        clock.advance(timedelta(minutes=1, seconds=59))
        assert tick.run_due(h.runtime) == 0
        assert nudges(h.emulator, room) == []

        clock.advance(timedelta(seconds=31))  # 2m 30s: confirm (2m) is 30s over
        assert tick.run_due(h.runtime) == 1
        [nudge] = nudges(h.emulator, room, "Confirm the incident")
        assert "INC-" in nudge and "30s past its 2m budget" in nudge
        assert "⏰ *Overdue:* Confirm the incident" in summary_text(h.emulator, room)
        assert "⏰ Confirm the incident" in checklist_text(h.emulator, room)
        [event] = clock_events(h.runtime, incident.id)
        assert "Confirm the incident is overdue" in event.text and event.data["step"] == "confirm"
        assert items(h.runtime, incident.id)["confirm"].nudged_at == clock.now()

        # Once: more ticks, later, say nothing more about it.
        clock.advance(timedelta(seconds=60))
        assert tick.run_due(h.runtime) == 0
        clock.advance(timedelta(minutes=2))  # 5m 30s: start (5m) is over now, and only start
        assert tick.run_due(h.runtime) == 1
        assert len(nudges(h.emulator, room, "Confirm the incident")) == 1
        assert len(nudges(h.emulator, room, "Start the response")) == 1

        # Ticked late: the lateness is stored and on the timeline; the ⏰ leaves the summary.
        flows.tick_checklist(h.runtime, incident.id, 0, h.alice)
        confirm = items(h.runtime, incident.id)["confirm"]
        assert confirm.late_seconds == 210  # ticked at 5m 30s, due at 2m
        assert "(⏱ 2m, done 3m 30s late)" in checklist_text(h.emulator, room)
        h.wait_idle()
        flows.refresh_summary(h.runtime, flows.current_view(h.runtime, incident.id))
        summary = summary_text(h.emulator, room)
        assert "Confirm the incident" not in summary and "Start the response" in summary
        late = [e.text for e in clock_events(h.runtime, incident.id) if "late" in e.text]
        assert late == ["Confirm the incident done 3m 30s late (budget 2m from the declaration)"]


def test_a_step_done_in_time_is_never_nudged_and_a_step_without_budget_has_no_timer(db_url) -> None:
    clock = ManualClock()
    with _harness(
        db_url, clock, "response_steps: {root_cause: {budget: null}, stop_loss: {budget: 20m}}\n"
    ) as h:
        incident = h.declare("p2 Search is slow")
        assert sorted(t.step for t in timers(h.runtime, incident.id, "step")) == [
            "confirm",
            "review",
            "start",
            "stop_loss",
            "verify",
        ]
        clock.advance(timedelta(minutes=1))
        flows.tick_checklist(h.runtime, incident.id, 0, h.alice)  # confirmed within 2m
        assert items(h.runtime, incident.id)["confirm"].late_seconds is None
        clock.advance(timedelta(minutes=18))  # 19m: start (5m) over, stop_loss (20m) not yet
        assert tick.run_due(h.runtime) == 1
        assert nudges(h.emulator, incident.channel_id, "Confirm the incident") == []
        assert len(nudges(h.emulator, incident.channel_id, "Start the response")) == 1
        assert nudges(h.emulator, incident.channel_id, "Stop the loss") == []
        # Unticked again after its budget: it is open past its budget, so it is nudged now (once).
        flows.tick_checklist(h.runtime, incident.id, 0, h.alice)
        assert tick.run_due(h.runtime) == 1
        assert len(nudges(h.emulator, incident.channel_id, "Confirm the incident")) == 1


def test_status_reminders_go_to_the_commander_and_stay_quiet_while_updates_come(db_url) -> None:
    clock = ManualClock()
    with _harness(
        db_url,
        clock,
        "response_steps: {confirm: {budget: null}, start: {budget: null}, stop_loss: {budget: null}, verify: {budget: null}, review: {budget: null}}\n",
    ) as h:
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        h.reply(h.command("ack", user=h.bob, channel=room))  # bob is commander now
        clock.advance(timedelta(minutes=29))
        assert tick.run_due(h.runtime) == 0
        clock.advance(timedelta(minutes=1))  # 30m without an update (P1)
        assert tick.run_due(h.runtime) == 1
        [dm] = reminders(h.emulator.dms(h.bob))
        assert "No status update on *INC-" in dm and "for 30m" in dm and "/incident status" in dm
        assert reminders(h.emulator.messages(room)) == []

        # Updates every 20 minutes: nothing more for two hours.
        for _ in range(6):
            clock.advance(timedelta(minutes=20))
            h.reply(h.command("status still rolling back", user=h.bob, channel=room))
            assert tick.run_due(h.runtime) == 0
        assert len(reminders(h.emulator.dms(h.bob))) == 1

        # Quiet again: one reminder 30m after the last update, then one per further 30m.
        clock.advance(timedelta(minutes=30))
        assert tick.run_due(h.runtime) == 1
        clock.advance(timedelta(minutes=29))
        assert tick.run_due(h.runtime) == 0
        clock.advance(timedelta(minutes=1))
        assert tick.run_due(h.runtime) == 1
        assert len(reminders(h.emulator.dms(h.bob))) == 3
        assert len([e for e in clock_events(h.runtime, incident.id) if "Status reminder" in e.text]) == 3

        # Mitigated still reminds (until resolved); resolved stops; reopened re-arms.
        h.reply(h.command("mitigated", user=h.bob, channel=room))
        clock.advance(timedelta(minutes=30))
        assert tick.run_due(h.runtime) == 1
        h.reply(h.command("resolve", user=h.bob, channel=room))
        clock.advance(timedelta(hours=3))
        assert tick.run_due(h.runtime) == 0
        h.reply(h.command("reopen", user=h.bob, channel=room))
        clock.advance(timedelta(minutes=30))
        assert tick.run_due(h.runtime) == 1
        assert len(reminders(h.emulator.dms(h.bob))) == 5


def test_with_no_commander_the_room_is_reminded_and_p3_never(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock, "status_reminders: {p2: 10m}\n") as h:
        p2 = h.declare("p2 Search is slow")
        p3 = h.declare("p3 Typo on the status page")
        clock.advance(timedelta(minutes=10))
        tick.run_due(h.runtime)
        [reminder] = reminders(h.emulator.messages(p2.channel_id))
        assert "nobody is commander" in reminder and "/incident commander @you" in reminder
        assert reminders(h.emulator.messages(p3.channel_id)) == []
        assert timers(h.runtime, p3.id, "status") == []
        clock.advance(timedelta(days=1))
        tick.run_due(h.runtime)
        assert reminders(h.emulator.messages(p3.channel_id)) == []


def test_a_severity_change_takes_the_new_interval_from_the_last_update(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p2 Search is slow")
        room = incident.channel_id
        h.reply(h.command("ack", user=h.bob, channel=room))
        clock.advance(timedelta(minutes=10))
        h.reply(h.command("status reindexing", user=h.bob, channel=room))
        clock.advance(timedelta(minutes=10))
        assert "now P0" in h.reply(
            h.command("sev p0", user=h.bob, channel=room)
        )  # P0 reminds after 15m, not 2h
        clock.advance(timedelta(minutes=4, seconds=59))  # 14m 59s since the update
        tick.run_due(h.runtime)  # (the steps over budget are nudged in the room meanwhile)
        assert reminders(h.emulator.dms(h.bob)) == []
        clock.advance(timedelta(seconds=1))
        assert tick.run_due(h.runtime) == 1
        [dm] = reminders(h.emulator.dms(h.bob))
        assert "for 15m" in dm


def test_the_resolve_stops_step_nudges_but_the_reviews_and_a_reopen_rearms_them(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        for position in (0, 1):  # confirmed and started in time
            flows.tick_checklist(h.runtime, incident.id, position, h.bob)
        h.reply(h.command("resolve", user=h.bob, channel=room))
        clock.advance(timedelta(hours=1))  # stop_loss (15m) and verify (45m) would be over by now
        assert tick.run_due(h.runtime) == 0
        assert nudges(h.emulator, room) == []

        h.reply(h.command("reopen", user=h.bob, channel=room))  # still open, and past budget: told now
        assert tick.run_due(h.runtime) == 2
        assert len(nudges(h.emulator, room, "Stop the loss")) == 1
        assert len(nudges(h.emulator, room, "Fix and verify")) == 1
        h.reply(h.command("resolve", user=h.bob, channel=room))
        clock.advance(timedelta(days=3))  # the review follows the resolve: its budget still runs
        tick.run_due(h.runtime)
        assert len(nudges(h.emulator, room, "Review")) == 1
        assert len(nudges(h.emulator, room)) == 3


def test_in_chinese_the_nudge_checklist_and_summary_speak_the_guides_words(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock, "language: zh\n") as h:
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        checklist = checklist_text(h.emulator, room)
        for label in ("故障确认", "启动应急", "快速止损", "根因定位", "修复验证", "故障总结"):
            assert label in checklist
        assert "(⏱ 2m)" in checklist
        clock.advance(timedelta(minutes=3))
        assert tick.run_due(h.runtime) == 1
        [nudge] = [t for t in texts_of(h, room) if "现已超出" in t]
        assert "*故障确认* 已超时" in nudge and "时限为宣布事件后 2m，现已超出 1m" in nudge
        assert "⏰ *已超时：* 故障确认" in summary_text(h.emulator, room)
        [event] = clock_events(h.runtime, incident.id)
        # stored once in English, told in the reader's language (the timeline, the postmortem)
        assert event.text.startswith("⏰ Confirm the incident"), event.text
        with use_language("zh"):
            shown = event_text(event.kind, event.text, event.data)
        assert shown == "⏰ 故障确认 已超时：时限 2m，已超出 1m 仍未完成", shown


def texts_of(h: Harness, channel_id: str) -> list[str]:
    from tests.response.helpers import texts

    return texts(h.emulator.messages(channel_id))


def test_the_reminder_dm_speaks_the_commanders_slack_language_and_the_room_the_workspaces(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        h.emulator.add_user("wei", id="U0WEI", locale="zh-CN")
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        h.reply(h.command("ack", user="U0WEI", channel=room))
        clock.advance(timedelta(minutes=30))
        tick.run_due(h.runtime)
        [dm] = [t for t in texts_of_dms(h, "U0WEI") if "没有状态更新" in t]
        assert "作为指挥官" in dm and "/incident status" in dm
        assert nudges(h.emulator, room, "Confirm the incident")  # the room: the workspace's English


def texts_of_dms(h: Harness, user: str) -> list[str]:
    from tests.response.helpers import texts

    return texts(h.emulator.dms(user))


def test_a_security_incident_runs_its_own_checklist_on_the_steps_it_maps_to(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        h.reply(h.command("security p1 Leaked AWS key in a public repo"), timeout=15)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.incident_type == "security"
        # Its checklist has no confirm/start items: no timers for those; rotate is stop_loss, and so on.
        assert [t.step for t in timers(h.runtime, incident.id, "step")] == ["stop_loss", "verify", "review"]
        clock.advance(timedelta(minutes=14))
        assert tick.run_due(h.runtime) == 0  # confirm (2m) and start (5m) have nothing to nudge
        clock.advance(timedelta(minutes=2))  # 16m: the rotation (stop_loss, 15m) is overdue
        assert tick.run_due(h.runtime) == 1
        assert len(nudges(h.emulator, incident.channel_id, "Stop the loss")) == 1
        clock.advance(timedelta(minutes=14))  # 30m: the room hears the reminder (no commander yet)
        assert tick.run_due(h.runtime) == 1
        assert len(reminders(h.emulator.messages(incident.channel_id))) == 1


def test_a_claim_whose_process_died_is_taken_over_after_the_lease_and_sent_once(db_url) -> None:
    from tests.escalation.helpers import close, make_runtime

    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p1 Checkout returns 502")
        clock.advance(timedelta(minutes=2, seconds=1))
        [claimed] = tick.claim(h.runtime, clock.now())  # this process claims, then "dies" before sending
        assert claimed.step == "confirm"
        other = make_runtime(h.emulator, db_url, h.runtime.policy, clock)
        try:
            clock.advance(claim_lease(other) - timedelta(seconds=1))
            assert tick.run_due(other) == 0  # still within the lease: the claim may be alive
            assert nudges(h.emulator, incident.channel_id) == []
            clock.advance(timedelta(seconds=2))
            assert tick.run_due(other) == 1
            # The first process wakes up: its claim is no longer its own, it records nothing.
            assert tick.record(h.runtime, claimed, clock.now(), incident.channel_id, None) is False
            assert len(nudges(h.emulator, incident.channel_id, "Confirm the incident")) == 1
            [row] = [t for t in timers(h.runtime, incident.id, "step") if t.step == "confirm"]
            assert row.status == "sent" and row.attempts == 2
            assert len([e for e in clock_events(h.runtime, incident.id) if "overdue" in e.text]) == 1
        finally:
            close(other)
