"""ack, note, status, sev, commander, mitigated, resolve, reopen through signed requests: timeline once each."""

from __future__ import annotations

from sqlalchemy import select

from bot.incidents.models import Incident, TimelineEvent
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness


def _summary(h: Harness, incident: Incident) -> str:
    message = next(m for m in h.emulator.messages(incident.channel_id) if m["ts"] == incident.summary_ts)
    return blocks_to_text(message.get("blocks"), message.get("text"))


def _kinds(h: Harness, incident_id: int) -> list[str]:
    with h.runtime.session() as s:
        return [
            e.kind
            for e in s.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == incident_id)
                .order_by(TimelineEvent.id)
            )
        ]


def test_lifecycle_lands_on_timeline_once_each_and_summary_follows(db_url: str) -> None:
    with Harness(db_url) as h:
        incident = h.declare()
        room = incident.channel_id

        assert "acknowledged" in h.reply(h.command("ack", user=h.bob, channel=room))
        h.wait_idle()
        assert "Acknowledged" in _summary(h, incident) and "@" in _summary(h, incident)
        h.reply(h.command("note rolled back to v1.4.2", channel=room))
        h.reply(h.command("status Checkout recovering; error rate 2%", channel=room))
        h.reply(h.command("sev p0", channel=room))
        h.reply(h.command(f"commander <@{h.carol}|carol>", channel=room))
        h.reply(h.command("mitigated", channel=room))
        h.reply(h.command("resolve", channel=room))
        h.wait_idle()

        kinds = _kinds(h, incident.id)
        for kind in ("acknowledged", "note", "status_update", "severity", "mitigated", "resolved"):
            assert kinds.count(kind) == 1, (kind, kinds)
        summary = _summary(h, incident)
        assert "P0" in summary and "Resolved" in summary and "Checkout recovering" in summary
        assert "Acknowledge" not in summary.split("Acknowledged")[-1]  # no buttons once resolved
        with h.runtime.session() as s:
            row = s.get(Incident, incident.id)
            assert row.status == "resolved" and row.commander_id == h.carol
            assert row.acknowledged_by == h.bob and row.severity == "p0"
        # the channel was told, in plain words
        said = " ".join(m.get("text", "") for m in h.emulator.messages(room))
        assert "acknowledged INC-" in said and "resolved INC-" in said and "Status update" in said

        # reopen, then the figures still hold
        h.reply(h.command("reopen", channel=room))
        h.wait_idle()
        with h.runtime.session() as s:
            assert s.get(Incident, incident.id).status == "acknowledged"


def test_buttons_do_what_commands_do(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        incident = h.declare()
        room = incident.channel_id
        h.driver.block_action(h.bob, room, incident.summary_ts, "incident_ack", value=str(incident.id))
        h.wait_until(lambda: "acknowledged" in _kinds(h, incident.id))
        h.driver.block_action(h.bob, room, incident.summary_ts, "incident_ack", value=str(incident.id))
        # the second click was told why nothing happened, only to the clicker
        # Bob previews the channel without joining, so the bot tells him in a DM
        h.wait_until(lambda: any("already acknowledged" in m.get("text", "") for m in h.emulator.dms(h.bob)))
        assert _kinds(h, incident.id).count("acknowledged") == 1

        h.driver.block_action(
            h.alice, room, incident.checklist_ts, "incident_checklist", value=f"{incident.id}:2"
        )

        def checklist_text() -> str:
            checklist = next(m for m in h.emulator.messages(room) if m["ts"] == incident.checklist_ts)
            return blocks_to_text(checklist["blocks"], checklist.get("text"))

        h.wait_until(lambda: "✅ Stop the loss" in checklist_text())

        h.driver.block_action(h.alice, room, incident.summary_ts, "incident_resolve", value=str(incident.id))

        def status() -> str:
            with h.runtime.session() as s:
                return s.get(Incident, incident.id).status

        h.wait_until(lambda: status() == "resolved")


def test_declare_modal_and_status_modal(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        response = h.command("")
        assert response.status == 200
        h.emulator.wait_for(lambda: h.emulator.open_modals(h.alice), timeout=5)
        state = {
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "p2"}}},
            "title": {"value": {"type": "plain_text_input", "value": "Search is slow"}},
        }
        h.driver.view_submission(h.alice, "declare_incident", state, private_metadata="C_GENERAL")
        channel = h.emulator.wait_for(h.incident_channel, timeout=5)
        h.wait_idle()
        assert channel.name.endswith("search-is-slow")
        incident = h.latest_incident()
        assert incident.severity == "p2"

        h.driver.view_submission(
            h.alice,
            "incident_status_update",
            {"status": {"value": {"type": "plain_text_input", "value": "Index rebuilt"}}},
            private_metadata=str(incident.id),
        )
        h.wait_idle()
        assert _kinds(h, incident.id).count("status_update") == 1
