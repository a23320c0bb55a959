"""The response clock's messages: a step over its budget (in the room), a status reminder (DM or room)."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import _
from bot.incidents.views import IncidentView
from bot.response.steps import NAMES
from bot.response.timers import format_over
from bot.slack.blocks.common import Block, escape, section

OVERDUE = "⏰"


def step_name(step: str) -> str:
    return _(NAMES[step]) if step in NAMES else step


def nudge_message(
    incident: IncidentView, step: str, over: timedelta, budget: timedelta
) -> tuple[str, list[Block]]:
    text = _(
        "{icon} {ref}: *{step}* is overdue — still open {over} past its {budget} budget (from the declaration). "
        "Tick it on the checklist when it is done, and post where things stand with `/incident status <text>`.",
        icon=OVERDUE,
        ref=incident.handle,
        step=escape(step_name(step)),
        over=format_over(over),
        budget=format_over(budget),
    )
    return text, [section(text)]


def reminder_message(to: str, incident: IncidentView, quiet_for: timedelta) -> tuple[str, list[Block]]:
    where = f"<#{incident.channel_id}>" if incident.channel_id else incident.handle
    if to.startswith(("U", "W")):
        text = _(
            "{icon} No status update on *{ref}* ({title}) for {quiet}. As commander, post where things stand "
            "in {where}: `/incident status <text>` — people outside the room are waiting on it.",
            icon=OVERDUE,
            ref=incident.handle,
            title=escape(incident.title),
            quiet=format_over(quiet_for),
            where=where,
        )
    else:
        text = _(
            "{icon} No status update on {ref} for {quiet}, and nobody is commander. Whoever leads: "
            "`/incident status <text>` here, and `/incident commander @you` to take the lead.",
            icon=OVERDUE,
            ref=incident.handle,
            quiet=format_over(quiet_for),
        )
    return text, [section(text)]
