"""The page DM: severity, title, age, a link to the war room, and an Acknowledge button.

The button carries action_id "incident_ack" and the incident id as its value; the same action
handler serves this button and the one on the channel's summary, so either stops escalation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.escalation.messages import age_text
from bot.i18n import _
from bot.incidents.views import status_word
from bot.ports import PageRequest
from bot.text import escape

ACK_ACTION_ID = "incident_ack"
SEVERITY_EMOJI = {"p0": ":red_circle:", "p1": ":large_orange_circle:", "p2": ":large_yellow_circle:"}
HEADER_MAX = 150


def _why(request: PageRequest) -> str:
    if request.reason == "manual":
        by = f"<@{request.requested_by}>" if request.requested_by else None
        if request.tier_name != "manual":
            if by:
                return _("Paged by hand by {by} ({tier}).", by=by, tier=request.tier_name)
            return _("Paged by hand ({tier}).", tier=request.tier_name)
        return _("Paged by hand by {by}.", by=by) if by else _("Paged by hand.")
    return _("You are paged as *{tier}*: nobody has acknowledged yet.", tier=request.tier_name)


def page_message(request: PageRequest, now: datetime | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the page DM for `request`."""
    incident = request.incident
    now = now or datetime.now(UTC)
    emoji = SEVERITY_EMOJI.get(incident.severity, ":white_circle:")
    sev = f"{incident.severity_tag} {incident.severity_label}".strip()
    age = age_text(incident.declared_at, now)
    room = (
        f"<#{incident.channel_id}>" if incident.channel_id else _("(the incident channel is being created)")
    )
    text = _(
        "{emoji} Page: {handle} {severity} — {title} (declared {age}). Join {room}",
        emoji=emoji,
        handle=incident.handle,
        severity=incident.severity_tag,
        title=escape(incident.title),
        age=age,
        room=room,
    )
    header = f"{incident.handle} {incident.severity_tag}: {incident.title}"
    if len(header) > HEADER_MAX:
        header = header[: HEADER_MAX - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _("*Severity*\n{emoji} {severity}", emoji=emoji, severity=sev)},
                {
                    "type": "mrkdwn",
                    "text": _(
                        "*Declared*\n{age} ({date})",
                        age=age,
                        date=f"<!date^{int(incident.declared_at.timestamp())}"
                        f"^{{date_short_pretty}} {{time}}|{incident.declared_at:%Y-%m-%d %H:%M} UTC>",
                    ),
                },
                {"type": "mrkdwn", "text": _("*Status*\n{status}", status=status_word(incident.status))},
                {"type": "mrkdwn", "text": _("*War room*\n{room}", room=room)},
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
                    "text": {"type": "plain_text", "text": _("Acknowledge"), "emoji": True},
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
