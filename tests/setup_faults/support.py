"""What people see during and after a declaration: rooms, summaries, pages, DMs; and rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.db import create_db_engine, make_session_factory
from bot.db.engine import session_scope
from bot.incidents.models import Incident, SetupStep
from devkit.slack_emulator import SlackEmulator, blocks_to_text, collect_actions
from tests.escalation.helpers import DIRECTOR, LEAD, ONCALL

LADDER = f"""
escalation:
  tiers:
    - {{name: tier1, targets: [{ONCALL}], timeout: 2s}}
    - {{name: tier2, targets: [{LEAD}], timeout: 2s}}
    - {{name: tier3, targets: [{DIRECTOR}], timeout: 30s}}
"""


def write_config(tmp_path: Path, text: str = LADDER) -> Path:
    path = tmp_path / "warroom.yml"
    path.write_text(text)
    return path


def rows(database_url: str, model: Any, *where: Any) -> list[Any]:
    engine = create_db_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            key = model.id if hasattr(model, "id") else model.incident_id
            return list(session.scalars(select(model).where(*where).order_by(key)))
    finally:
        engine.dispose()


def incident(database_url: str, title: str) -> Incident | None:
    found = rows(database_url, Incident, Incident.title == title)
    return found[0] if found else None


def steps(database_url: str, incident_id: int) -> dict[str, str]:
    return {r.step: r.status for r in rows(database_url, SetupStep, SetupStep.incident_id == incident_id)}


def rooms(emu: SlackEmulator, incident_id: int) -> list[Any]:
    """Every channel Slack holds for this incident (inc-<date>-<id>-…), archived or not."""
    return [c for c in list(emu.channels.values()) if c.name.split("-")[:3][-1:] == [str(incident_id)]]


def texts(emu: SlackEmulator, channel_id: str) -> list[str]:
    return [blocks_to_text(m.get("blocks"), m.get("text")) for m in emu.messages(channel_id)]


def summaries(emu: SlackEmulator, channel_id: str) -> list[dict[str, Any]]:
    return [
        m for m in emu.messages(channel_id) if "Respond by" in blocks_to_text(m.get("blocks"), m.get("text"))
    ]


def checklists(emu: SlackEmulator, channel_id: str) -> list[dict[str, Any]]:
    return [
        m for m in emu.messages(channel_id) if "Response checklist" in blocks_to_text(m.get("blocks"), "")
    ]


def room_complete(emu: SlackEmulator, incident_id: int, reporter: str) -> Any:
    """The one room, with one pinned summary, one checklist and the reporter in it; else None."""
    found = rooms(emu, incident_id)
    if len(found) != 1:
        return None
    room = found[0]
    summary = summaries(emu, room.id)
    pinned = {p.get("message", {}).get("ts") or p.get("ts") for p in room.pins}
    if len(summary) == 1 and summary[0]["ts"] in pinned and len(checklists(emu, room.id)) == 1:
        return room if reporter in room.members else None
    return None


def pages(emu: SlackEmulator, user: str, title: str | None = None) -> list[dict[str, Any]]:
    """Page DMs: messages to the user with an Acknowledge button (for the incident titled `title`)."""
    return [
        m
        for m in emu.dms(user)
        if any(a.action_id == "incident_ack" for a in collect_actions(m.get("blocks")))
        and (title is None or title in str(m.get("text", "")))
    ]


def dm_texts(emu: SlackEmulator, user: str) -> list[str]:
    return [blocks_to_text(m.get("blocks"), m.get("text")) for m in emu.dms(user)]
