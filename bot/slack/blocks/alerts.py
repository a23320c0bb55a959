"""Alert messages: proposals (Declare/Dismiss), notices in the war room, and `/incident alerts`.

Alert text is untrusted: it is rendered only through `alert_detail.esc` (see that module).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.alerts.views import AlertGroupView
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
        return "the timer (nobody answered in time)"
    return user(decided_by) if _USER_ID.match(decided_by) else esc(decided_by, 64)


def _severity_select(group_id: int) -> dict[str, Any]:
    """Picking a severity declares at once, at that severity (the button takes the suggested one)."""
    options = [
        {"text": {"type": "plain_text", "text": f"Declare {key.upper()}"}, "value": f"{group_id}:{key}"}
        for key in SEVERITIES
    ]
    return {
        "type": "static_select",
        "action_id": SEVERITY_ACTION,
        "placeholder": {"type": "plain_text", "text": "Declare as…"},
        "options": options,
    }


def proposal_message(group: AlertGroupView) -> tuple[str, list[Block]]:
    severity = (group.severity or "p2").upper()
    title = esc(group.title, 140)
    blocks: list[Block] = [header(f"🔔 Alert: {clip(' '.join(group.title.split()), 130)}")]
    blocks += alert_blocks(group.detail)
    facts = f"Suggested severity *{severity}* · {group.firing} of {group.total} alert(s) firing"
    if group.repeats:
        facts += f" · {group.repeats} repeat(s) folded"
    if group.status == "resolved":
        facts += " · ✅ resolved at the source"
    blocks.append(context(facts))
    value = str(group.id)
    if group.state in ("proposing", "proposed"):
        if group.confirm_at is not None:
            blocks.append(
                context(f"Declared automatically at {when(group.confirm_at)} unless someone answers.")
            )
        blocks.append(
            actions(
                f"alert_proposal_{group.id}",
                button(f"Declare {severity}", DECLARE_ACTION, value, "primary"),
                _severity_select(group.id),
                button("Dismiss", DISMISS_ACTION, value),
            )
        )
    elif group.state == "dismissed":
        blocks.append(context(f"Dismissed by {_who(group.decided_by)}."))
    elif group.incident_id is not None:
        where = f" <#{group.incident_channel}>" if group.incident_channel else ""
        blocks.append(
            context(f"Declared INC-{group.incident_id} {severity}{where} — by {_who(group.decided_by)}.")
        )
    elif group.state == "declaring":
        blocks.append(context(f"Declaring {severity} — by {_who(group.decided_by)}…"))
    text = f"Alert from {esc(group.source, 64)}: {title} — declare an incident?"
    return text, blocks


def notice_message(group: AlertGroupView, kind: str) -> tuple[str, list[Block]]:
    if kind == "resolved":
        text = f"✅ The {esc(group.source, 64)} alert group resolved: {esc(group.title, 150)}."
        blocks = [section(text + " Resolve the incident if the service is healthy again.")]
        if group.incident_id is not None:
            blocks.append(
                actions(
                    f"alert_resolved_{group.id}",
                    button("Resolve", RESOLVE_ACTION, str(group.incident_id), "danger"),
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
            lines.append(f"…and {more} more")
        text = f"🌩️ Alert storm: {len(group.members)} alert group(s) folded into this incident."
        return text, [section(f"*{text}*"), section("\n".join(lines) or "—")]
    text = (
        f"🔁 Alert repeated: {group.repeats} more notification(s) folded — "
        f"{group.firing} of {group.total} alert(s) firing."
    )
    return text, [context(text)]


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
        text = "No alerts received recently."
        return text, [section(text)]
    lines = []
    for group in groups[:40]:
        incident = f" → INC-{group.incident_id}" if group.incident_id else ""
        lines.append(
            f"{STATE_ICON.get(group.state, '•')} *{group.state}* {esc(group.title, 120)} "
            f"({esc(group.source, 40)}, {group.status}, {group.firing}/{group.total} firing){incident}"
            f" — {when(group.activated_at)}"
        )
    text = f"{len(groups)} alert group(s), unmatched ones first"
    blocks: list[Block] = [section(f"*Alerts received* — {text}:")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(
        context("Unmatched alerts match no route in `alerts.routes`; add one to open incidents for them.")
    )
    return text, blocks
