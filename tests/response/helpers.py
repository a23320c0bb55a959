"""Readers for the response-clock tests: nudges in the room, reminders by DM, timer rows, checklist rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.incidents.models import ChecklistItem, TimelineEvent
from bot.response.models import ResponseTimer
from bot.runtime import Runtime
from devkit.slack_emulator import SlackEmulator, blocks_to_text, collect_actions


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [blocks_to_text(m.get("blocks"), m.get("text")) for m in messages]


def nudges(emu: SlackEmulator, channel_id: str, step_name: str | None = None) -> list[str]:
    """Room messages saying a step is overdue (of the step called `step_name`)."""
    return [
        t
        for t in texts(emu.messages(channel_id))
        if "is overdue" in t and (step_name is None or f"*{step_name}*" in t)
    ]


def reminders(messages: list[dict[str, Any]]) -> list[str]:
    return [t for t in texts(messages) if "No status update" in t]


def summary_text(emu: SlackEmulator, channel_id: str) -> str:
    """The pinned summary as it reads now (after every chat.update)."""
    pinned = {p.get("message", {}).get("ts") or p.get("ts") for p in emu.channels[channel_id].pins}
    [summary] = [m for m in emu.messages(channel_id) if m["ts"] in pinned]
    return blocks_to_text(summary.get("blocks"), summary.get("text"))


def checklist_text(emu: SlackEmulator, channel_id: str) -> str:
    """The checklist as it reads now, in any language: the message with the checklist's buttons."""
    [found] = [
        m
        for m in emu.messages(channel_id)
        if any(a.action_id == "incident_checklist" for a in collect_actions(m.get("blocks")))
    ]
    return blocks_to_text(found.get("blocks"), found.get("text"))


def timers(runtime: Runtime, incident_id: int, kind: str | None = None) -> list[ResponseTimer]:
    with runtime.session() as session:
        query = select(ResponseTimer).where(ResponseTimer.incident_id == incident_id)
        if kind:
            query = query.where(ResponseTimer.kind == kind)
        return list(session.scalars(query.order_by(ResponseTimer.id)))


def items(runtime: Runtime, incident_id: int) -> dict[str, ChecklistItem]:
    with runtime.session() as session:
        rows = session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == incident_id))
        return {str(r.step): r for r in rows}


def clock_events(runtime: Runtime, incident_id: int) -> list[TimelineEvent]:
    with runtime.session() as session:
        query = select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "response_clock"
        )
        return list(session.scalars(query.order_by(TimelineEvent.id)))
