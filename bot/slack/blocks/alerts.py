"""Alert messages: proposals (Declare/Dismiss), notices in the war room, and `/incident alerts`.

Alert text is untrusted: it is rendered only through `alert_detail.esc` (see that module).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.alerts.views import AlertGroupView, alert_state_name
from bot.i18n import _, ngettext
from bot.slack.blocks.alert_detail import alert_blocks, esc
from bot.slack.blocks.common import Block, actions, button, clip, context, header, section, user, when
from bot.slack.blocks.incident import RESOLVE_ACTION

DECLARE_ACTION = "alert_declare"
DISMISS_ACTION = "alert_dismiss"
SEVERITY_ACTION = "alert_severity"
SEVERITIES = ("p0", "p1", "p2", "p3")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _who(decided_by: str | None) -> str:
    if not decided_by:
        return "—"
    if decided_by == "timer":
        return _("the timer (nobody answered in time)")
    return user(decided_by) if _USER_ID.match(decided_by) else esc(decided_by, 64)


def _severity_select(group_id: int) -> dict[str, Any]:
    """Picking a severity declares at once, at that severity (the button takes the suggested one)."""
    options = [
        {
            "text": {"type": "plain_text", "text": _("Declare {severity}", severity=key.upper())},
            "value": f"{group_id}:{key}",
        }
        for key in SEVERITIES
    ]
    return {
        "type": "static_select",
        "action_id": SEVERITY_ACTION,
        "placeholder": {"type": "plain_text", "text": _("Declare as…")},
        "options": options,
    }


def proposal_message(group: AlertGroupView) -> tuple[str, list[Block]]:
    severity = (group.severity or "p2").upper()
    title = esc(group.title, 140)
    blocks: list[Block] = [header(_("🔔 Alert: {title}", title=clip(" ".join(group.title.split()), 130)))]
    blocks += alert_blocks(group.detail)
    facts = [
        _("Suggested severity *{severity}*", severity=severity),
        _firing(group.firing, group.total),
    ]
    if group.repeats:
        facts.append(ngettext("{n} repeat folded", "{n} repeats folded", group.repeats))
    if group.status == "resolved":
        facts.append(_("✅ resolved at the source"))
    blocks.append(context(" · ".join(facts)))
    value = str(group.id)
    if group.state in ("proposing", "proposed"):
        if group.confirm_at is not None:
            blocks.append(
                context(
                    _("Declared automatically at {when} unless someone answers.", when=when(group.confirm_at))
                )
            )
        blocks.append(
            actions(
                f"alert_proposal_{group.id}",
                button(_("Declare {severity}", severity=severity), DECLARE_ACTION, value, "primary"),
                _severity_select(group.id),
                button(_("Dismiss"), DISMISS_ACTION, value),
            )
        )
    elif group.state == "dismissed":
        blocks.append(context(_("Dismissed by {who}.", who=_who(group.decided_by))))
    elif group.incident_id is not None:
        where = f" <#{group.incident_channel}>" if group.incident_channel else ""
        blocks.append(
            context(
                _(
                    "Declared {handle} {severity}{where} — by {who}.",
                    handle=f"INC-{group.incident_id}",
                    severity=severity,
                    where=where,
                    who=_who(group.decided_by),
                )
            )
        )
    elif group.state == "declaring":
        blocks.append(
            context(_("Declaring {severity} — by {who}…", severity=severity, who=_who(group.decided_by)))
        )
    text = _("Alert from {source}: {title} — declare an incident?", source=esc(group.source, 64), title=title)
    return text, blocks


def notice_message(group: AlertGroupView, kind: str) -> tuple[str, list[Block]]:
    if kind == "resolved":
        text = _(
            "✅ The {source} alert group resolved: {title}.",
            source=esc(group.source, 64),
            title=esc(group.title, 150),
        )
        blocks = [section(_("{text} Resolve the incident if the service is healthy again.", text=text))]
        if group.incident_id is not None:
            blocks.append(
                actions(
                    f"alert_resolved_{group.id}",
                    button(_("Resolve"), RESOLVE_ACTION, str(group.incident_id), "danger"),
                )
            )
        return text, blocks
    if kind == "storm":
        lines = [
            f"{'🔴' if status == 'firing' else '🟢'} {esc(title, 150)} ({esc(source, 40)})"
            for title, source, status in group.members[:40]
        ]
        more = len(group.members) - 40
        if more > 0:
            lines.append(_("…and {more} more", more=more))
        text = ngettext(
            "🌩️ Alert storm: {n} alert group folded into this incident.",
            "🌩️ Alert storm: {n} alert groups folded into this incident.",
            len(group.members),
        )
        return text, [section(f"*{text}*"), section("\n".join(lines) or "—")]
    text = ngettext(
        "🔁 Alert repeated: {n} more notification folded — {firing}.",
        "🔁 Alert repeated: {n} more notifications folded — {firing}.",
        group.repeats,
        firing=_firing(group.firing, group.total),
    )
    return text, [context(text)]


def _firing(firing: int, total: int) -> str:
    return ngettext("{firing} of {n} alert firing", "{firing} of {n} alerts firing", total, firing=firing)


STATE_ICON = {
    "unmatched": "❔",
    "ignored": "🔕",
    "proposed": "🔔",
    "proposing": "🔔",
    "dismissed": "🚫",
    "declared": "🚨",
    "declaring": "🚨",
    "stormed": "🌩️",
}


def alerts_list(groups: Sequence[AlertGroupView]) -> tuple[str, list[Block]]:
    if not groups:
        text = _("No alerts received recently.")
        return text, [section(text)]
    lines = []
    for group in groups[:40]:
        incident = f" → INC-{group.incident_id}" if group.incident_id else ""
        lines.append(
            _(
                "{icon} *{state}* {title} ({source}, {status}, {firing}/{total} firing){incident} — {when}",
                icon=STATE_ICON.get(group.state, "•"),
                state=alert_state_name(group.state),
                title=esc(group.title, 120),
                source=esc(group.source, 40),
                status=alert_state_name(group.status),
                firing=group.firing,
                total=group.total,
                incident=incident,
                when=when(group.activated_at),
            )
        )
    text = ngettext(
        "{n} alert group, unmatched ones first", "{n} alert groups, unmatched ones first", len(groups)
    )
    blocks: list[Block] = [section(_("*Alerts received* — {text}:", text=text))]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(
        context(_("Unmatched alerts match no route in `alerts.routes`; add one to open incidents for them."))
    )
    return text, blocks
