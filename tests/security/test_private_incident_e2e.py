"""A private security incident end to end: its desk paged, a private room, and its title nowhere else.

Over signed HTTP into the real Bolt app, against the Slack emulator: every Web API call and every
response_url answer of the whole run is searched for the title; only calls into the room may hold it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.config.policy import Policy
from bot.incidents.models import ChecklistItem, Incident
from bot.scheduler import start_scheduler
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.setup_faults.support import pages

TITLE = "Payments signing key leaked on pastebin"

POLICY = {
    "announce_channel": "C0ANNOUNCE",
    "escalation": {"tiers": [{"name": "ops", "targets": ["U0BOB"], "timeout": "15m"}]},
    "escalation_policies": {
        "security": {"tiers": [{"name": "sec1", "targets": ["U0CAROL"], "timeout": "10m"}]}
    },
}


def _leaks(h: Harness, room: str) -> list[str]:
    """Every recorded call outside the room whose parameters carry the title (or a slug of it)."""
    found = []
    for call in h.emulator.calls:
        params: dict[str, Any] = call.params
        blob = json.dumps(params, ensure_ascii=False).lower()
        if TITLE.lower() not in blob and "pastebin" not in blob:
            continue
        where = params.get("channel") or params.get("channel_id")
        if call.method == "response_url":  # an ephemeral answer: only its one reader sees it
            hook = h.emulator.response_urls.get(str(params.get("response_id")))
            if hook is not None and hook.user in h.emulator.channels[room].members:
                continue  # a member of the room asked (`/incident list`)
            where = hook.channel if hook else None
        if where != room:
            found.append(f"{call.method} → {where}: {blob[:200]}")
    return found


def _listing(h: Harness, user: str) -> str:
    posts = h.command("list", user=user).wait_responses(1, timeout=5)
    return blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))


def _rendered(h: Harness, channel: str) -> list[str]:
    return [blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.messages(channel)]


def test_private_security_incident_keeps_its_title_in_its_room(db_url: str) -> None:
    with Harness(db_url, policy=Policy.model_validate(POLICY)) as h:
        scheduler = start_scheduler(h.runtime)  # the escalation tick pages the desk
        try:
            _run(h)
        finally:
            scheduler.shutdown(wait=True)


def _run(h: Harness) -> None:
    if True:
        h.emulator.add_channel("incidents", id="C0ANNOUNCE")
        response = h.command(f"security p1 {TITLE}")
        assert response.status == 200
        answer = h.reply(response, timeout=15)
        assert "Opened" in answer and "INC-1" in answer and TITLE not in answer
        h.wait_idle()
        with h.runtime.session() as s:
            incident = s.scalar(select(Incident))
            assert incident is not None and incident.private and incident.incident_type == "security"
            room_id = incident.channel_id
            items = list(s.scalars(select(ChecklistItem).order_by(ChecklistItem.position)))
            steps = [i.text for i in items]
            # The key-leak steps run on the response clock: rotate = stop the loss (15m), audit = verify (45m).
            clocks = [(i.step, i.due_at - incident.declared_at if i.due_at else None) for i in items]
        assert room_id
        room = h.emulator.channels[room_id]
        # A private room, named without the title, with the declarer and the security desk.
        assert room.is_private and "pastebin" not in room.name and room.name.startswith("inc-")
        assert h.alice in room.members and h.carol in room.members and h.bob not in room.members
        assert [s.split(" — ")[0] for s in steps] == [
            "Rotate the leaked key or secret at once",
            "Assess the impact",
            "Audit access",
            "Notify the stakeholders",
        ]
        assert clocks == [
            ("stop_loss", timedelta(minutes=15)),
            ("root_cause", None),
            ("verify", timedelta(minutes=45)),
            ("review", timedelta(days=3)),
        ]
        summary = next(t for t in _rendered(h, room_id) if TITLE in t)  # the room itself has it
        assert "安全事件 security" in summary  # the type's label beside the severity's
        checklist = next(t for t in _rendered(h, room_id) if "Rotate the leaked key" in t)
        assert "(⏱ 15m)" in checklist and "Stop the loss" not in checklist
        assert any("Rotate the leaked key" in t for t in _rendered(h, room_id))

        # The security desk is paged (without the title); the ops desk is not.
        h.wait_until(lambda: pages(h.emulator, h.carol), timeout=10)
        assert pages(h.emulator, h.bob) == []
        assert all(TITLE not in json.dumps(m) for m in pages(h.emulator, h.carol))

        # (the weekly report may post there too: the scheduler runs)
        announced = [t for t in _rendered(h, "C0ANNOUNCE") if "INC-1" in t]
        assert len(announced) == 1 and "restricted incident was declared by" in announced[0]
        assert h.alice in announced[0]

        # /incident list: bob (not in the room) does not see it; alice does.
        bob_list = _listing(h, h.bob)
        assert "INC-1" not in bob_list and "pastebin" not in bob_list and "No open incidents" in bob_list
        assert "INC-1" in _listing(h, h.alice) and TITLE in _listing(h, h.alice)

        # In the room: a note, the audit record, resolve (the postmortem lands in the room).
        h.reply(h.command("note rotated the key via vault", channel=room_id))
        assert "Uploaded" in h.reply(h.command("audit", channel=room_id))
        h.command("ack", channel=room_id, user=h.carol)
        h.reply(h.command("resolve", channel=room_id))
        h.wait_until(lambda: [f for f in h.emulator.uploaded_files(room_id) if f.name.endswith(".md")], 15)
        h.wait_idle()

        assert _leaks(h, room_id) == []
