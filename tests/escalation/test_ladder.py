"""The ladder on a ManualClock: nothing before due, exactly one page at due, loops, exhaustion, ack, resolve."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.escalation import engine
from bot.incidents import flows
from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import (
    DIRECTOR,
    LEAD,
    ONCALL,
    REPORTER,
    channel_texts,
    close,
    declare,
    guide_policy,
    make_runtime,
    outbox,
    pages,
    state,
    timeline,
)

SECOND = timedelta(seconds=1)


def test_guide_ladder_pages_each_tier_once_at_its_due_time(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        incident = declare(runtime)
        engine.run_due(runtime)

        # Tier 1 at declare: one DM with the incident, a channel link and an Acknowledge button.
        [dm] = pages(emu, ONCALL, incident.id)
        text = blocks_to_text(dm["blocks"], dm["text"])
        assert "INC-" in text and "P1" in text and "Checkout returns 502" in text and "严重 major" in text
        assert f"<#{incident.channel_id}>" in dm["text"]
        assert "Acknowledge" in text
        assert ONCALL in emu.channels[incident.channel_id].members  # paged people join the war room
        assert pages(emu, LEAD) == [] and pages(emu, DIRECTOR) == []

        # One second before tier 1's 15 minutes: nothing. At the due second: exactly one page.
        clock.advance(timedelta(minutes=15) - SECOND)
        engine.run_due(runtime)
        assert pages(emu, LEAD) == []
        clock.advance(SECOND)
        engine.run_due(runtime)
        engine.run_due(runtime)
        assert len(pages(emu, LEAD, incident.id)) == 1
        assert LEAD in emu.channels[incident.channel_id].members

        clock.advance(timedelta(minutes=30) - SECOND)
        engine.run_due(runtime)
        assert pages(emu, DIRECTOR) == []
        clock.advance(SECOND)
        engine.run_due(runtime)
        assert len(pages(emu, DIRECTOR, incident.id)) == 1

        # After the last tier's hour: "escalation exhausted" in the channel, and nobody paged again.
        clock.advance(timedelta(hours=1))
        engine.run_due(runtime)
        engine.run_due(runtime)
        assert [t for t in channel_texts(emu, incident.channel_id) if "Escalation exhausted" in t]
        clock.advance(timedelta(hours=5))
        engine.run_due(runtime)
        assert [len(pages(emu, u)) for u in (ONCALL, LEAD, DIRECTOR)] == [1, 1, 1]

        rows = outbox(runtime, incident.id)
        assert [(r.tier_name, r.target, r.status) for r in rows if r.kind == "page"] == [
            ("tier1", ONCALL, "sent"),
            ("tier2", LEAD, "sent"),
            ("tier3", DIRECTOR, "sent"),
        ]
        # P1's 1 h response target passed unacknowledged too: both notices went to the channel once.
        assert sorted((r.target, r.status) for r in rows if r.kind == "notice") == [
            ("notice:exhausted", "sent"),
            ("notice:response_breach", "sent"),
        ]
        # A ManualClock standing still on the due time: lateness is exactly zero.
        assert all(r.sent_at == r.due_at for r in rows if r.kind == "page")
        assert state(runtime, incident.id).stopped_reason == "exhausted"
        page_events = timeline(runtime, incident.id, "page")
        assert [e.text for e in page_events] == [
            f"Paged <@{ONCALL}> (tier1) via Slack DM",
            f"Paged <@{LEAD}> (tier2) via Slack DM",
            f"Paged <@{DIRECTOR}> (tier3) via Slack DM",
        ]
        escalations = [e.text for e in timeline(runtime, incident.id, "escalation")]
        assert escalations[0] == f"Paging tier1: <@{ONCALL}>"
        assert escalations[1] == f"No acknowledgement within 15m of paging tier1: paging tier2: <@{LEAD}>"
        assert "exhausted" in escalations[-1]
    finally:
        close(runtime)


def test_repeat_loops_over_the_tiers_then_exhausts(emu, db_url) -> None:
    clock = ManualClock()
    policy = guide_policy().model_copy(
        update={"escalation": guide_policy().escalation.model_copy(update={"repeat": 1})}
    )
    runtime = make_runtime(emu, db_url, policy, clock)
    try:
        incident = declare(runtime)
        for _ in range(16):  # 15m + 30m + 1h = 1h45m per loop, two loops, in 15-minute steps
            engine.run_due(runtime)
            clock.advance(timedelta(minutes=15))
        engine.run_due(runtime)
        assert [len(pages(emu, u, incident.id)) for u in (ONCALL, LEAD, DIRECTOR)] == [2, 2, 2]
        keys = [(r.loop, r.tier) for r in outbox(runtime, incident.id) if r.kind == "page"]
        assert keys == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
        exhausted = [t for t in channel_texts(emu, incident.channel_id) if "Escalation exhausted" in t]
        assert len(exhausted) == 1 and "2 times" in exhausted[0]
    finally:
        close(runtime)


def test_ack_stops_escalation_and_resolve_stops_everything(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        acked = declare(runtime, title="Orders API slow")
        resolved = declare(runtime, title="Search down")
        engine.run_due(runtime)
        flows.change_status(runtime, acked.id, ONCALL, "acknowledged")
        flows.change_status(runtime, resolved.id, REPORTER, "resolved")
        clock.advance(timedelta(hours=3))
        engine.run_due(runtime)
        for incident in (acked, resolved):
            assert len(pages(emu, ONCALL, incident.id)) == 1
            assert pages(emu, LEAD, incident.id) == [] and pages(emu, DIRECTOR, incident.id) == []
            assert not [t for t in channel_texts(emu, incident.channel_id) if "exhausted" in t]
        assert state(runtime, acked.id).stopped_reason == "acknowledged"
        assert state(runtime, resolved.id).stopped_reason == "resolved"
    finally:
        close(runtime)


def test_response_deadline_is_told_in_the_channel_once(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        late = declare(runtime, severity="p0", title="Everything down")
        on_time = declare(runtime, severity="p0", title="Payments down")
        engine.run_due(runtime)
        flows.change_status(runtime, on_time.id, ONCALL, "acknowledged")
        clock.advance(timedelta(minutes=15) - SECOND)
        engine.run_due(runtime)
        assert not [t for t in channel_texts(emu, late.channel_id) if "response target" in t]
        clock.advance(SECOND)
        engine.run_due(runtime)
        clock.advance(timedelta(minutes=1))
        engine.run_due(runtime)
        notices = [t for t in channel_texts(emu, late.channel_id) if "response target" in t]
        assert len(notices) == 1 and "unacknowledged" in notices[0] and "15m" in notices[0]
        assert not [t for t in channel_texts(emu, on_time.channel_id) if "response target" in t]
        [event] = timeline(runtime, late.id, "response_breach")
        assert event.at == late.response_due_at
        assert timeline(runtime, on_time.id, "response_breach") == []
    finally:
        close(runtime)
