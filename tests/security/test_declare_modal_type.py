"""The declare form's Type select: a security incident from the modal, and the typed command's mistakes."""

from __future__ import annotations

import json

from bot.config.policy import Policy
from tests.harness import Harness


def test_the_declare_form_offers_the_types_and_declares_a_private_one(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy.model_validate({"announce_channel": "C0ANNOUNCE"})) as h:
        h.emulator.add_channel("incidents", id="C0ANNOUNCE")
        h.command("")
        modal = h.emulator.wait_for(lambda: h.emulator.open_modals(h.alice), timeout=5)[-1]
        select = next(b for b in modal["blocks"] if b.get("block_id") == "incident_type")
        options = [o["value"] for o in select["element"]["options"]]
        assert options == ["none", "security"] and select["optional"] is True
        assert "private" in json.dumps(select["element"]["options"][1], ensure_ascii=False)
        state = {
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "p1"}}},
            "title": {"value": {"type": "plain_text_input", "value": "Session cookies forged"}},
            "incident_type": {"value": {"type": "static_select", "selected_option": {"value": "security"}}},
        }
        h.driver.view_submission(h.alice, "declare_incident", state, private_metadata="C_GENERAL")
        room = h.emulator.wait_for(h.incident_channel, timeout=10)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.incident_type == "security" and incident.private
        assert h.emulator.channels[room.id].is_private and "session" not in room.name
        answer = json.dumps(h.emulator.dms(h.alice), ensure_ascii=False)  # the form's answer is a DM
        assert "Opened" in answer and "Session cookies forged" not in answer


def test_typed_command_mistakes_are_told_and_change_nothing(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        assert "`/incident security p1 &lt;title&gt;`" in h.reply(h.command("security urgent Leaked key"))
        assert "needs a title" in h.reply(h.command("security p1"))
        assert h.latest_incident() is None
