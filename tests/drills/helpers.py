"""Drill report test helpers: the reports posted in a room, and a drill declared (and resolved)."""

from __future__ import annotations

from typing import Any

from bot.incidents import flows
from bot.incidents.models import Incident
from bot.runtime import Runtime
from devkit.slack_emulator import SlackEmulator
from tests.escalation.helpers import ONCALL, REPORTER


def reports(emu: SlackEmulator, channel_id: str) -> list[dict[str, Any]]:
    """The drill reports posted in `channel_id`, as Slack holds them (text, ts…)."""
    return [m for m in emu.messages(channel_id) if "Drill report" in m.get("text", "")]


def declare_drill(runtime: Runtime, *, resolved_by_a_dead_process: bool = False) -> Incident:
    """A p1 drill with its room; resolved by a process that died before its hook when asked, so
    its report row is left to the tick."""
    result = flows.declare(
        runtime,
        severity="p1",
        title="Checkout drill",
        reporter_id=REPORTER,
        origin_channel_id="C_GENERAL",
        request_key=None,
        drill=True,
    )
    if resolved_by_a_dead_process:
        runtime.hooks.clear()
        flows.change_status(runtime, result.incident.id, ONCALL, "resolved")
    with runtime.session() as session:
        incident = session.get(Incident, result.incident.id)
        assert incident is not None and incident.channel_id
        return incident
