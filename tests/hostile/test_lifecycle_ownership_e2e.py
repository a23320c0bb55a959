"""Who may steer an incident (roles.incident_managers) and changes from outside the war room."""

from __future__ import annotations

from sqlalchemy import select

from bot.config.policy import Policy, Roles
from bot.incidents.models import Incident, TimelineEvent
from devkit.slack_emulator import collect_actions
from tests.harness import Harness


def _incident(h: Harness, incident_id: int) -> Incident:
    with h.runtime.session() as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        return row


def _timeline(h: Harness, incident_id: int) -> list[TimelineEvent]:
    with h.runtime.session() as session:
        query = (
            select(TimelineEvent).where(TimelineEvent.incident_id == incident_id).order_by(TimelineEvent.id)
        )
        return list(session.scalars(query))


def test_managers_and_the_commander_may_change_sev_commander_and_resolve(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(roles=Roles(incident_managers=["U0CAROL"]))) as h:
        incident = h.declare("p1 Checkout returns 502")
        room = incident.channel_id
        assert room
        h.emulator.channels[room].members.append(h.bob)  # bob joins the room; his ack makes him commander
        assert "acknowledged" in h.reply(h.command("ack", user=h.bob, channel=room))
        before = len(_timeline(h, incident.id))
        for text in ("sev p3", f"commander <@{h.alice}>", f"role commander <@{h.alice}>", "resolve"):
            answer = h.reply(h.command(text, user=h.alice, channel=room))
            assert "Only the commander <@U0BOB>, <@U0CAROL> may" in answer, answer
            assert "Nothing changed" in answer
        h.wait_idle()
        row = _incident(h, incident.id)
        assert (row.severity, row.commander_id, row.status) == ("p1", h.bob, "acknowledged")
        assert len(_timeline(h, incident.id)) == before
        # Anyone may still ack, note and mitigate.
        assert "mitigated" in h.reply(h.command("mitigated", user=h.alice, channel=room))
        # A manager may, even from outside the room; the timeline says who and from where.
        assert "P2" in h.reply(h.command("sev p2", user=h.carol, channel=room))
        # The commander may resolve.
        assert "resolved" in h.reply(h.command("resolve", user=h.bob, channel=room))
        h.wait_idle()
        row = _incident(h, incident.id)
        assert (row.severity, row.status) == ("p2", "resolved")
        outside = [e for e in _timeline(h, incident.id) if (e.data or {}).get("outside_room")]
        assert [(e.data["actor"], e.text) for e in outside] == [
            (
                h.carol,
                "<@U0CAROL> changed the severity to P2 from outside the war room (not a member of the channel).",
            )
        ]
        shown = h.command("timeline", user=h.bob, channel=room).wait_responses(1)
        assert "from outside the war room" in str(shown[-1]["blocks"])


def test_ack_from_a_page_dm_is_recorded_with_the_actor(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        incident = h.declare("p2 Search is slow")
        room = incident.channel_id
        assert room
        assert "paged" in h.reply(h.command(f"page <@{h.carol}>", channel=room))
        h.wait_idle()
        dm = h.emulator.dm_channel(h.carol)
        page = next(m for m in h.emulator.dms(h.carol) if collect_actions(m.get("blocks")))
        button = next(a for a in collect_actions(page["blocks"]) if a.action_id == "incident_ack")
        assert h.driver.press(h.carol, dm.id, page["ts"], button.number).status == 200
        h.wait_until(lambda: _incident(h, incident.id).acknowledged_by == h.carol)
        h.wait_idle()
        events = _timeline(h, incident.id)
        ack = next(e for e in events if e.kind == "acknowledged")
        assert ack.actor == h.carol
        outside = [e for e in events if (e.data or {}).get("outside_room")]
        assert len(outside) == 1 and outside[0].data["via"] == "from the page DM"
        assert outside[0].text == "<@U0CAROL> acknowledged from outside the war room (from the page DM)."
