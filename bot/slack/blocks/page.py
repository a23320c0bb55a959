"""The page DM: severity, title, age, a link to the war room, and an Acknowledge button.

The button carries action_id "incident_ack" and the incident id as its value; the same action
handler serves this button and the one on the channel's summary, so either stops escalation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.escalation.messages import age_text
from bot.ports import PageRequest
from bot.text import escape

ACK_ACTION_ID = "incident_ack"
SEVERITY_EMOJI = {"p0": ":red_circle:", "p1": ":large_orange_circle:", "p2": ":large_yellow_circle:"}
HEADER_MAX = 150


def _why(request: PageRequest) -> str:
    if request.reason == "manual":
        by = f" by <@{request.requested_by}>" if request.requested_by else ""
        return (
            f"Paged by hand{by} ({request.tier_name})."
            if request.tier_name != "manual"
            else f"Paged by hand{by}."
        )
    return f"You are paged as *{request.tier_name}*: nobody has acknowledged yet."


def page_message(request: PageRequest, now: datetime | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the page DM for `request`."""
    incident = request.incident
    now = now or datetime.now(UTC)
    emoji = SEVERITY_EMOJI.get(incident.severity, ":white_circle:")
    sev = f"{incident.severity_tag} {incident.severity_label}".strip()
    age = age_text(incident.declared_at, now)
    room = f"<#{incident.channel_id}>" if incident.channel_id else "(the incident channel is being created)"
    text = f"{emoji} Page: {incident.handle} {incident.severity_tag} — {escape(incident.title)} (declared {age}). Join {room}"
    header = f"{incident.handle} {incident.severity_tag}: {incident.title}"
    if len(header) > HEADER_MAX:
        header = header[: HEADER_MAX - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Severity*\n{emoji} {sev}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Declared*\n{age} (<!date^{int(incident.declared_at.timestamp())}"
                    f"^{{date_short_pretty}} {{time}}|{incident.declared_at:%Y-%m-%d %H:%M} UTC>)",
                },
                {"type": "mrkdwn", "text": f"*Status*\n{incident.status}"},
                {"type": "mrkdwn", "text": f"*War room*\n{room}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _why(request)}},
        {
            "type": "actions",
            "block_id": f"page_{incident.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACK_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
                    "style": "primary",
                    "value": str(incident.id),
                }
            ],
        },
    ]
    return text, blocks


def oncall_blocks(text: str) -> list[dict[str, Any]]:
    """`/incident oncall`: the text (already within Slack's limit) as one section."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
