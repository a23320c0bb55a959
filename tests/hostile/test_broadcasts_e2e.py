"""Hostile text through signed requests: nothing the bot posts may broadcast or carry a disguised link.

Declares, notes, status updates, errors, pages, announcements, timelines, action items, the
postmortem comment: then every Web API call the emulator recorded, every response_url post and
every ack body is read the way Slack reads mrkdwn.
"""

from __future__ import annotations

import json
from typing import Any

from bot.config.policy import Policy
from tests.harness import Harness
from tests.hostile.scan import live_markup

HOSTILE = "<!channel> <!here> <!everyone> <!subteam^S0OPS|@ops> <https://evil.example|click>"


def _ack_body(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"text": response.body}
    return body if isinstance(body, dict) else {}


def test_hostile_text_never_broadcasts_nor_links(sqlite_url: str) -> None:
    policy = Policy(announce_channel="C0ANNOUNCE")
    with Harness(sqlite_url, policy=policy) as h:
        h.emulator.add_channel("announcements", id="C0ANNOUNCE", members=[h.alice, h.bob])
        acks: list[dict[str, Any]] = []

        def run(text: str, channel: str | None = None) -> str:
            response = h.command(text, channel=channel)
            assert response.status == 200, response.body
            acks.append(_ack_body(response))
            return h.reply(response)

        incident = h.declare(f"p1 Checkout {HOSTILE}")
        room = incident.channel_id
        assert room
        for command in (
            f"note {HOSTILE} ask <@{h.bob}>",
            f"status {HOSTILE} ask <@{h.bob}>",
            f"sev {HOSTILE}",
            f"commander {HOSTILE}",
            f"role {HOSTILE} <@{h.bob}>",
            f"action {HOSTILE}",
            "action",
            f"page <@{h.bob}>",
            "list",
            "timeline",
            f"postmortem {HOSTILE}",
            "resolve",
        ):
            run(command, channel=room)
        for command in (f"p9 {HOSTILE}", f"{HOSTILE}", f"p2 {HOSTILE} again", f"note {HOSTILE}"):
            run(command)
        # A message with a broadcast pinned in the room goes on the timeline; the bot must not repeat it live.
        said = h.emulator.add_message(room, h.carol, f"{HOSTILE} from carol")
        h.driver.event(
            {
                "type": "pin_added",
                "user": h.carol,
                "channel_id": room,
                "item": {"type": "message", "channel": room, "message": {"ts": said["ts"]}},
            }
        )
        h.wait_idle()
        run("timeline", channel=room)
        h.wait_idle()

        permalinks = (f"https://{h.emulator.domain}.slack.com/archives/",)
        found = [
            problem
            for call in h.emulator.calls
            for problem in live_markup(call.method, call.params, permalinks)
        ]
        found += [problem for n, body in enumerate(acks) for problem in live_markup(f"ack#{n}", body)]
        assert found == []

        # The test sees what it means to: the hostile text arrived, shown as typed, and mentions stay live.
        posted = json.dumps([call.params for call in h.emulator.calls])
        assert "&lt;!channel&gt;" in posted and "&lt;https://evil.example|click&gt;" in posted
        methods = {call.method for call in h.emulator.calls}
        assert {"chat.postMessage", "chat.update", "response_url"} <= methods
        assert any(f"<@{h.bob}>" in str(m.get("text")) for m in h.emulator.messages(room))
        assert any("&lt;!here&gt;" in str(m.get("text")) for m in h.emulator.messages("C0ANNOUNCE"))
        assert any("&lt;!here&gt;" in str(m.get("text")) for m in h.emulator.dms(h.bob))
