"""Words of escalation: timeline texts, channel notices, and the page as SMS, e-mail and webhook JSON.

The Slack DM itself is Block Kit and lives in bot.slack.blocks.page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.config.durations import format_duration
from bot.config.policy import EscalationPolicy
from bot.incidents.views import IncidentView


def age_text(declared_at: datetime, now: datetime) -> str:
    """How long ago an incident was declared, to the minute: "just now", "42s ago", "1h 5m ago"."""
    seconds = max(0, int((now - declared_at).total_seconds()))
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds}s ago"
    # Minutes are precise enough for a page; "1h 2m 3s" is noise at 3 a.m.
    return format_duration(timedelta(seconds=seconds - seconds % 60)) + " ago"


def mentions(users: list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) if users else "nobody"


def escalation_text(
    policy: EscalationPolicy, tier: int, loop: int, users: list[str], empty_reason: str
) -> str:
    """Timeline text for one rung of the ladder."""
    name = policy.tiers[tier].name
    who = mentions(users) if users else f"nobody ({empty_reason})"
    if tier == 0 and loop == 0:
        return f"Paging {name}: {who}"
    previous = policy.tiers[tier - 1] if tier else policy.tiers[-1]
    waited = format_duration(previous.timeout)
    again = f"loop {loop + 1} of {policy.repeat + 1}, paging {name} again" if tier == 0 else f"paging {name}"
    return f"No acknowledgement within {waited} of paging {previous.name}: {again}: {who}"


def exhausted_text(incident: IncidentView, policy: EscalationPolicy) -> str:
    ladder = " → ".join(t.name for t in policy.tiers)
    loops = policy.repeat + 1
    return (
        f":warning: *Escalation exhausted* for {incident.handle}: nobody acknowledged after paging "
        f"{ladder} ({loops} time{'s' if loops > 1 else ''}). Acknowledge with the button on the summary or "
        "`/incident ack`; `/incident page @user` or `/incident page tier1` pages someone by hand."
    )


def breach_text(incident: IncidentView, target: timedelta) -> str:
    return (
        f":alarm_clock: {incident.handle} ({incident.severity_tag} {incident.severity_label}) is still "
        f"*unacknowledged* {format_duration(target)} after it was declared — its response target has passed. "
        "Acknowledge with the button on the summary or `/incident ack`."
    )


def _room(incident: IncidentView) -> str:
    return f"#{incident.channel_name}" if incident.channel_name else "the incident channel in Slack"


def _paged_as(tier_name: str, reason: str, requested_by: str | None) -> str:
    if reason == "manual":
        return "You were paged by hand" + (f" ({tier_name})" if tier_name != "manual" else "")
    return f"You are paged as {tier_name}"


def sms_text(
    incident: IncidentView, tier_name: str, reason: str, requested_by: str | None, now: datetime
) -> str:
    return (
        f"[Warroom] {incident.severity_tag} {incident.handle}: {incident.title} — declared "
        f"{age_text(incident.declared_at, now)}, unacknowledged. {_paged_as(tier_name, reason, requested_by)}. "
        f"Acknowledge in Slack: {_room(incident)}"
    )


def email_subject(incident: IncidentView, tier_name: str) -> str:
    return f"[{incident.severity_tag}] {incident.handle} {incident.title} — you are paged ({tier_name})"


def email_body(
    incident: IncidentView, tier_name: str, reason: str, requested_by: str | None, now: datetime
) -> str:
    return "\n".join(
        [
            f"{incident.handle} {incident.severity_tag} {incident.severity_label}: {incident.title}",
            "",
            f"Declared: {incident.declared_at:%Y-%m-%d %H:%M} UTC ({age_text(incident.declared_at, now)})",
            f"Status: {incident.status}",
            f"{_paged_as(tier_name, reason, requested_by)}.",
            "",
            f"Join {_room(incident)} in Slack and press Acknowledge on the page, or type /incident ack there.",
        ]
    )


def webhook_payload(
    incident: IncidentView,
    user_id: str,
    tier_name: str,
    reason: str,
    requested_by: str | None,
    key: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "type": "page",
        "key": key,  # the same on every retry: receivers can drop repeats
        "user_id": user_id,
        "tier": tier_name,
        "reason": reason,
        "requested_by": requested_by,
        "sent_at": now.isoformat(),
        "incident": {
            "id": incident.id,
            "handle": incident.handle,
            "title": incident.title,
            "severity": incident.severity,
            "severity_label": incident.severity_label,
            "status": incident.status,
            "declared_at": incident.declared_at.isoformat(),
            "channel_id": incident.channel_id,
            "channel_name": incident.channel_name,
        },
    }
