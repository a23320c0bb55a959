"""Over signed HTTP: the DM's Acknowledge button, `/incident page`, `/incident oncall`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.escalation import engine
from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import (
    DIRECTOR,
    LEAD,
    ONCALL,
    guide_policy,
    outbox,
    pages,
    seed_users,
    state,
    timeline,
)
from tests.harness import Harness


def _harness(db_url: str, clock: ManualClock, extra: str = "") -> Harness:
    h = Harness(db_url, policy=guide_policy(extra), clock=clock)
    seed_users(h.emulator)
    return h


def test_the_acknowledge_button_in_the_page_dm_stops_escalation(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p1 Checkout API returns 502")
        engine.run_due(h.runtime)
        [dm] = pages(h.emulator, ONCALL, incident.id)
        dm_channel = h.emulator.dm_channel(ONCALL).id
        response = h.driver.block_action(ONCALL, dm_channel, dm["ts"], "incident_ack")
        assert response.status == 200
        h.emulator.wait_for(lambda: not state(h.runtime, incident.id).active, timeout=5)
        h.wait_idle()
        clock.advance(timedelta(hours=2))
        engine.run_due(h.runtime)
        assert pages(h.emulator, LEAD) == [] and pages(h.emulator, DIRECTOR) == []
        assert state(h.runtime, incident.id).stopped_reason == "acknowledged"
        assert any(
            "acknowledged" in blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.dms(ONCALL)
        )


def test_page_by_hand_a_person_and_a_tier(db_url) -> None:
    clock = ManualClock()
    with _harness(db_url, clock) as h:
        incident = h.declare("p2 Search is slow")
        engine.run_due(h.runtime)
        channel = incident.channel_id

        reply = h.reply(h.command(f"page <@{DIRECTOR}|director>", user=ONCALL, channel=channel))
        assert f"<@{DIRECTOR}>: paged by DM" in reply
        [dm] = pages(h.emulator, DIRECTOR, incident.id)
        assert f"Paged by hand by @{ONCALL}" in blocks_to_text(dm["blocks"])  # who asked for help
        assert DIRECTOR in h.emulator.channels[channel].members

        reply = h.reply(h.command("page tier2", user=ONCALL, channel=channel))
        assert f"<@{LEAD}>: paged by DM" in reply
        assert len(pages(h.emulator, LEAD, incident.id)) == 1
        # Paging the same person by hand again is a new page (a new request), not a duplicate.
        h.reply(h.command(f"page <@{DIRECTOR}>", user=ONCALL, channel=channel))
        assert len(pages(h.emulator, DIRECTOR, incident.id)) == 2
        manual = [
            (r.loop, r.tier, r.target, r.requested_by) for r in outbox(h.runtime, incident.id) if r.tier < 0
        ]
        assert manual == [(1, -1, DIRECTOR, ONCALL), (2, -1, LEAD, ONCALL), (3, -1, DIRECTOR, ONCALL)]
        assert len(timeline(h.runtime, incident.id, "page")) == 4  # tier 1 at declare + three by hand

        # Mistakes change nothing and say what to type.
        assert "not someone I can page" in h.reply(h.command("page tier9", user=ONCALL, channel=channel))
        assert "works inside an incident channel" in h.reply(h.command(f"page <@{LEAD}>", user=ONCALL))


def test_oncall_lists_who_each_tier_would_page_now(db_url) -> None:
    clock = ManualClock(datetime(2026, 3, 30, 1, 59, tzinfo=UTC))  # 09:59 Monday in Shanghai
    extra = """
rotations:
  primary: {users: [U0ONCALL, U0DIRECTOR], handoff: "mon 10:00", timezone: Asia/Shanghai, every: 1w}
"""
    with _harness(db_url, clock, extra) as h:
        h.runtime.policy = guide_policy(extra).model_copy(
            update={
                "escalation": guide_policy(extra).escalation.model_copy(
                    update={
                        "tiers": [
                            guide_policy()
                            .escalation.tiers[0]
                            .model_copy(update={"targets": ["rotation:primary"]}),
                            guide_policy().escalation.tiers[1].model_copy(update={"targets": ["S0LEADS"]}),
                        ]
                    }
                )
            }
        )
        h.emulator.add_usergroup("leads", [LEAD, DIRECTOR], id="S0LEADS")
        before = h.reply(h.command("oncall"))
        assert (
            "tier1" in before
            and "rotation:primary → <@U0ONCALL> until Mon 30 Mar 10:00 Asia/Shanghai" in before
        )
        assert f"<!subteam^S0LEADS> → <@{LEAD}>, <@{DIRECTOR}>" in before
        clock.advance(timedelta(minutes=1))  # the 10:00 handoff
        after = h.reply(h.command("oncall"))
        assert "rotation:primary → <@U0DIRECTOR> until Mon 06 Apr 10:00 Asia/Shanghai" in after
        assert "p0, p1, p2 or p3" in h.reply(h.command("oncall p7"))
