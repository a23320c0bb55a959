"""Declare under adverse Slack: slow calls, 429 and 5xx, name_taken, a failing step; plus list and timeline."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from bot.config.policy import Policy
from bot.incidents.models import Incident, TimelineEvent
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness


def test_ack_stays_fast_when_slack_is_slow(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        h.emulator.latency("conversations.create", 2.5)
        h.emulator.latency("chat.postMessage", 1.0)
        started = time.monotonic()
        response = h.command("p0 Payments down")
        assert response.status == 200 and time.monotonic() - started < 1.5
        h.emulator.wait_for(h.incident_channel, timeout=10)
        assert "Opened" in h.reply(response, timeout=10)


def test_429_and_5xx_are_retried_without_doubles(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        h.emulator.fail("conversations.create", status=429, retry_after=1, times=1)
        h.emulator.fail("chat.postMessage", status=503, times=1)
        h.emulator.fail("pins.add", status=500, times=1)
        incident = h.declare(text="p1 Checkout API returns 502")
        h.wait_idle()
        created = [c for c in h.emulator.calls_to("conversations.create") if c.ok]
        assert len(created) == 1
        texts = [
            blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.messages(incident.channel_id)
        ]
        assert (
            sum("Respond by" in t for t in texts) == 1 and sum("Response checklist" in t for t in texts) == 1
        )
        assert len(h.emulator.channels[incident.channel_id].pins) == 1
        assert incident.setup_errors == []


def test_name_taken_gets_a_suffix_and_announcement_is_posted(sqlite_url: str) -> None:
    policy = Policy(announce_channel="C0ANNOUNCE")
    with Harness(sqlite_url, policy=policy) as h:
        h.emulator.add_channel("incidents", id="C0ANNOUNCE")
        today = datetime.now(UTC).strftime("%Y%m%d")
        # Someone else's channel of that name (a person's, and one our bot made for an older database).
        h.emulator.add_channel(f"inc-{today}-1-checkout-down", creator=h.bob)
        h.emulator.add_channel(f"inc-{today}-1-checkout-down-2").created -= 3600
        incident = h.declare("p1 Checkout down")
        assert incident.channel_name == f"inc-{today}-1-checkout-down-3"
        announced = [m.get("text", "") for m in h.emulator.messages("C0ANNOUNCE")]
        assert any("Checkout down" in t and "P1" in t for t in announced)


def test_failed_step_is_reported_not_silent(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(announce_channel="C0MISSING")) as h:
        response = h.command("p2 Search is slow")
        reply = h.reply(response, timeout=5)
        assert "Opened" in reply and "announce" in reply and "channel_not_found" in reply
        incident = h.latest_incident()
        with h.runtime.session() as s:
            kinds = [
                e.kind
                for e in s.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id))
            ]
        assert "setup_error" in kinds
        # the rest of the war room was still set up
        assert incident.summary_ts and incident.checklist_ts


def test_list_and_timeline_in_order(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        first = h.declare("p2 Search is slow")
        second = h.declare("p0 Payments down", user=h.bob)
        listing = h.reply(h.command("list"))
        assert "Open incidents" in listing or "open incident" in listing
        posts = h.command("list").wait_responses(1)
        text = blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))
        assert text.index("Payments down") < text.index("Search is slow")  # most severe first
        room = second.channel_id
        h.reply(h.command("note one", channel=room))
        h.reply(h.command("note two", channel=room))
        posts = h.command("timeline", channel=room).wait_responses(1)
        timeline = blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))
        assert timeline.index("Declared P0") < timeline.index("one") < timeline.index("two")
        with h.runtime.session() as s:
            assert s.get(Incident, first.id).status == "declared"


def test_no_channel_still_pages_tier_one(sqlite_url: str) -> None:
    from bot.config.policy import EscalationPolicy, Tier

    policy = Policy(escalation=EscalationPolicy(tiers=[Tier(name="tier1", targets=["U0BOB"], timeout="1m")]))
    with Harness(sqlite_url, policy=policy) as h:
        from bot.scheduler import start_scheduler

        scheduler = start_scheduler(h.runtime)
        try:
            h.emulator.fail("conversations.create", error="restricted_action", times=None)
            reply = h.reply(h.command("p0 Payments down"), timeout=10)
            assert "Could not create the channel" in reply and "restricted_action" in reply
            page = h.wait_until(lambda: h.emulator.dms(h.bob), timeout=30)
            assert "Payments down" in str(page[0])
        finally:
            scheduler.shutdown(wait=False)


def test_help_shows_placeholders_intact(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        posts = h.command("help").wait_responses(1)
        raw = str(posts[-1].get("blocks"))
        assert "<title>" not in raw and "&lt;title&gt;" in raw  # escaped for Slack's mrkdwn
        text = blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))
        assert "/incident p0|p1|p2|p3 <title>" in text and "/incident note <text>" in text
