"""Words of escalation: timeline texts, channel notices, and the page as SMS, e-mail and webhook JSON.

The Slack DM itself is Block Kit and lives in bot.slack.blocks.page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.config.durations import format_duration
from bot.config.policy import EscalationPolicy
from bot.i18n import N_, _, ngettext, word_for
from bot.incidents.timeline import said
from bot.incidents.views import IncidentView, status_word

# Why a queued page was not sent (PageOutbox.error holds the code; the timeline shows these words).
STOP_REASONS = {
    "resolved": N_("the incident is resolved"),
    "acknowledged": N_("the incident was acknowledged"),
    "mitigated": N_("the incident is mitigated"),
    "exhausted": N_("escalation is exhausted"),
    "stopped": N_("escalation was stopped"),
    "no escalation": N_("no escalation is running"),
}


def stop_reason_text(code: str) -> str:
    return word_for(STOP_REASONS, code)


def age_text(declared_at: datetime, now: datetime) -> str:
    """How long ago an incident was declared, to the minute: "just now", "42s ago", "1h 5m ago"."""
    seconds = max(0, int((now - declared_at).total_seconds()))
    if seconds < 5:
        return _("just now")
    if seconds < 60:
        return _("{seconds}s ago", seconds=seconds)
    # Minutes are precise enough for a page; "1h 2m 3s" is noise at 3 a.m.
    return _("{duration} ago", duration=format_duration(timedelta(seconds=seconds - seconds % 60)))


def mentions(users: list[str]) -> str:
    return _(", ").join(f"<@{u}>" for u in users) if users else _("nobody")


def escalation_said(
    policy: EscalationPolicy, tier: int, loop: int, users: list[str], configured: bool
) -> tuple[str, dict[str, Any]]:
    """Timeline row for one rung of the ladder: English text and what renders it in any language."""
    name = policy.tiers[tier].name
    if users:
        who, translated = ", ".join(f"<@{u}>" for u in users), ()
    else:
        who = NOBODY_CONFIGURED if not configured else NOBODY_RESOLVED
        translated = ("who",)
    if tier == 0 and loop == 0:
        return said(N_("Paging {tier}: {who}"), translated, tier=name, who=who)
    previous = policy.tiers[tier - 1] if tier else policy.tiers[-1]
    waited = format_duration(previous.timeout)
    if tier == 0:
        return said(
            N_(
                "No acknowledgement within {waited} of paging {previous}: loop {loop} of {loops}, "
                "paging {tier} again: {who}"
            ),
            translated,
            waited=waited,
            previous=previous.name,
            loop=str(loop + 1),
            loops=str(policy.repeat + 1),
            tier=name,
            who=who,
        )
    return said(
        N_("No acknowledgement within {waited} of paging {previous}: paging {tier}: {who}"),
        translated,
        waited=waited,
        previous=previous.name,
        tier=name,
        who=who,
    )


NOBODY_CONFIGURED = N_("nobody (no targets configured)")
NOBODY_RESOLVED = N_("nobody (no one resolved)")


def exhausted_text(incident: IncidentView, policy: EscalationPolicy) -> str:
    loops = policy.repeat + 1
    return ngettext(
        ":warning: *Escalation exhausted* for {handle}: nobody acknowledged after paging {ladder} "
        "({n} time). Acknowledge with the button on the summary or `/incident ack`; "
        "`/incident page @user` or `/incident page tier1` pages someone by hand.",
        ":warning: *Escalation exhausted* for {handle}: nobody acknowledged after paging {ladder} "
        "({n} times). Acknowledge with the button on the summary or `/incident ack`; "
        "`/incident page @user` or `/incident page tier1` pages someone by hand.",
        loops,
        handle=incident.handle,
        ladder=" → ".join(t.name for t in policy.tiers),
    )


def breach_text(incident: IncidentView, target: timedelta) -> str:
    return _(
        ":alarm_clock: {handle} ({severity}) is still *unacknowledged* {target} after it was declared "
        "— its response target has passed. Acknowledge with the button on the summary or `/incident ack`.",
        handle=incident.handle,
        severity=f"{incident.severity_tag} {incident.severity_label}".strip(),
        target=format_duration(target),
    )


def _room(incident: IncidentView) -> str:
    return f"#{incident.channel_name}" if incident.channel_name else _("the incident channel in Slack")


def _paged_as(tier_name: str, reason: str, requested_by: str | None) -> str:
    if reason == "manual":
        if tier_name != "manual":
            return _("You were paged by hand ({tier})", tier=tier_name)
        return _("You were paged by hand")
    return _("You are paged as {tier}", tier=tier_name)


def sms_text(
    incident: IncidentView, tier_name: str, reason: str, requested_by: str | None, now: datetime
) -> str:
    return _(
        "[Warroom] {severity} {handle}: {title} — declared {age}, unacknowledged. {paged_as}. "
        "Acknowledge in Slack: {room}",
        severity=incident.severity_tag,
        handle=incident.handle,
        title=incident.title,
        age=age_text(incident.declared_at, now),
        paged_as=_paged_as(tier_name, reason, requested_by),
        room=_room(incident),
    )


def email_subject(incident: IncidentView, tier_name: str) -> str:
    return _(
        "[{severity}] {handle} {title} — you are paged ({tier})",
        severity=incident.severity_tag,
        handle=incident.handle,
        title=incident.title,
        tier=tier_name,
    )


def email_body(
    incident: IncidentView, tier_name: str, reason: str, requested_by: str | None, now: datetime
) -> str:
    return "\n".join(
        [
            f"{incident.handle} {incident.severity_tag} {incident.severity_label}: {incident.title}",
            "",
            _(
                "Declared: {when} UTC ({age})",
                when=f"{incident.declared_at:%Y-%m-%d %H:%M}",
                age=age_text(incident.declared_at, now),
            ),
            _("Status: {status}", status=status_word(incident.status)),
            _("{paged_as}.", paged_as=_paged_as(tier_name, reason, requested_by)),
            "",
            _(
                "Join {room} in Slack and press Acknowledge on the page, or type /incident ack there.",
                room=_room(incident),
            ),
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
        "drill": incident.drill,  # receivers must not treat a drill's page as a real one
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
