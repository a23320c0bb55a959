"""`/incident p1 …` over signed HTTP: one channel, the reporter invited, a pinned summary, the checklist."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.incidents.models import Incident, TimelineEvent
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.setup_faults.support import room_complete


def test_declare_opens_a_war_room(db_url: str) -> None:
    with Harness(db_url) as h:
        started = time.monotonic()
        response = h.command("p1 Checkout API returns 502")
        acked_in = time.monotonic() - started
        assert response.status == 200
        assert acked_in < 3.0
        channel = h.emulator.wait_for(h.incident_channel, timeout=5)
        h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=15)

        assert channel.name.startswith("inc-") and channel.name.endswith("-checkout-api-returns-502")
        assert h.alice in channel.members
        rendered = {
            m["ts"]: blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.messages(channel.id)
        }
        summary_ts = next(ts for ts, text in rendered.items() if "Respond by" in text)
        summary = rendered[summary_ts]
        assert "P1" in summary and "Checkout API returns 502" in summary and "严重 major" in summary
        assert "Acknowledge" in summary and "Resolve" in summary
        assert [pin["ts"] for pin in h.emulator.channels[channel.id].pins] == [summary_ts]
        assert any("Response checklist" in text and "Stop the loss" in text for text in rendered.values())
        assert len(rendered) == 2
        assert "Opened" in h.reply(response)

        with h.runtime.session() as s:
            assert s.scalar(select(func.count()).select_from(Incident)) == 1
            incident = s.scalar(select(Incident))
            assert incident.channel_id == channel.id and incident.severity == "p1"
            kinds = [e.kind for e in s.scalars(select(TimelineEvent))]
            assert kinds == ["declared"]
