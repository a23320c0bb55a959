"""War-room messages: the pinned summary, the response checklist, the announcement, lists and help."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.i18n import _
from bot.incidents.models import TimelineEvent
from bot.incidents.views import ChecklistView, IncidentView
from bot.response.steps import LABELS
from bot.response.timers import format_over
from bot.slack.blocks.alert_detail import alert_blocks
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    fields,
    header,
    section,
    user,
    when,
)
from bot.slack.blocks.response import step_name

STATUS_ICON = {"declared": "🔴", "acknowledged": "🟠", "mitigated": "🟡", "resolved": "🟢"}
SEVERITY_ICON = {"p0": "🚨", "p1": "🔥", "p2": "⚠️", "p3": "ℹ️"}

ACK_ACTION = "incident_ack"
STATUS_ACTION = "incident_status_update"
RESOLVE_ACTION = "incident_resolve"
CHECKLIST_ACTION = "incident_checklist"


def title_line(incident: IncidentView) -> str:
    return f"{SEVERITY_ICON.get(incident.severity, '')} {incident.handle} {incident.severity_tag}: {incident.title}"


def summary_message(incident: IncidentView) -> tuple[str, list[Block]]:
    status = f"{STATUS_ICON.get(incident.status, '')} {incident.status.capitalize()}"
    roles = ", ".join(
        f"{role}: {user(uid)}" for role, uid in sorted(incident.roles.items()) if role != "commander"
    )
    blocks: list[Block] = [
        header(title_line(incident)),
        fields(
            [
                ("Severity", f"{incident.severity_tag} · {incident.severity_label}"),
                ("Status", status),
                ("Commander", user(incident.commander_id)),
                ("Respond by", when(incident.response_due_at)),
                ("Declared", f"{when(incident.declared_at)} by {user(incident.reporter_id)}"),
                (
                    "Acknowledged",
                    f"{when(incident.acknowledged_at)} {user(incident.acknowledged_by) if incident.acknowledged_by else ''}".strip(),
                ),
            ]
        ),
    ]
    if roles:
        blocks.append(context(f"Roles — {roles}"))
    overdue = [step_name(item.step) for item in incident.checklist if item.overdue and item.step]
    if overdue:
        blocks.append(section(_("⏰ *Overdue:* {steps}", steps=escape(", ".join(overdue)))))
    if incident.last_status_update:
        blocks.append(section(f"*Latest status:* {escape(incident.last_status_update)}"))
    if incident.alert:
        blocks.extend(alert_blocks(incident.alert))  # with its own, stricter escaping
    value = str(incident.id)
    if incident.status != "resolved":
        buttons = []
        if incident.acknowledged_at is None:
            buttons.append(button("Acknowledge", ACK_ACTION, value, "primary"))
        buttons.append(button("Status update", STATUS_ACTION, value))
        buttons.append(button("Resolve", RESOLVE_ACTION, value, "danger"))
        blocks.append(actions("incident_summary_actions", *buttons))
    blocks.append(
        context(
            "`/incident help` lists every command. Pin a message or react :pushpin: to add it to the timeline."
        )
    )
    # The fallback is mrkdwn too (Slack notifies on it): the title is escaped there as in the blocks.
    text = f"{incident.handle} {incident.severity_tag} ({incident.severity_label}) — {escape(incident.title)} — {incident.status}"
    return text, blocks


def checklist_message(incident: IncidentView) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        section("*Response checklist* (the runbook's steps) — tick each item as it is done:")
    ]
    for item in incident.checklist:
        mark = "✅" if item.done_by else ("⏰" if item.overdue else "⬜")
        done = f" — {user(item.done_by)}" if item.done_by else ""
        block = section(f"{mark} {escape(step_label(item))}{clock_note(incident, item)}{done}")
        block["accessory"] = button(
            "Undo" if item.done_by else "Done", CHECKLIST_ACTION, f"{incident.id}:{item.position}"
        )
        blocks.append(block)
    return f"Response checklist for {incident.handle}", blocks


def step_label(item: ChecklistView) -> str:
    """The step's label in the language in force; a row of no known step keeps its stored text."""
    return _(LABELS[item.step]) if item.step in LABELS else item.text


def clock_note(incident: IncidentView, item: ChecklistView) -> str:
    """The step's budget, and how late it was ticked."""
    if item.due_at is None:
        return ""
    budget = format_over(item.due_at - incident.declared_at)
    if item.done_at is not None and item.late_seconds:
        return " " + _(
            "(⏱ {budget}, done {late} late)",
            budget=budget,
            late=format_over(timedelta(seconds=item.late_seconds)),
        )
    return f" (⏱ {budget})"


def announcement(incident: IncidentView) -> tuple[str, list[Block]]:
    channel = f"<#{incident.channel_id}>" if incident.channel_id else "(channel not created)"
    text = f"{escape(title_line(incident))} — declared by <@{incident.reporter_id}>. Join {channel}."
    return text, [
        section(
            f"*{escape(title_line(incident))}*\n{incident.severity_label} · declared by {user(incident.reporter_id)} · join {channel}"
        )
    ]


def declare_answer(incident: IncidentView, created: bool, problems: list[str], pending: list[str]) -> str:
    """The declarer's answer: the room, or the honest state of it — never "(no channel)" while it is
    being set up."""
    if incident.channel_id:
        where = f"<#{incident.channel_id}>"
    elif pending:
        where = "the room is being set up" + (" — I'll message you when it is ready" if created else "")
    else:
        where = "no room could be made (see below)"
    if not created:
        return f"You declared this a moment ago: *{incident.handle}* {where}. No second incident was opened."
    lines = [f"Opened *{incident.handle}* {incident.severity_tag} — {escape(incident.title)}: {where}"]
    lines += [f"⚠️ {escape(problem)}" for problem in problems]
    if pending and incident.channel_id:
        lines.append(f"⏳ Still being set up: {', '.join(pending)}. I'll message you when it lands.")
    return "\n".join(lines)


def incident_list(incidents: Sequence[IncidentView]) -> tuple[str, list[Block]]:
    if not incidents:
        return "No open incidents. 🎉", [section("No open incidents. 🎉")]
    lines = [
        f"{SEVERITY_ICON.get(i.severity, '')} *{i.handle}* {i.severity_tag} {escape(i.title)} — {i.status}"
        + (f" — <#{i.channel_id}>" if i.channel_id else "")
        for i in incidents
    ]
    blocks: list[Block] = [header(f"Open incidents ({len(incidents)})")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return f"{len(incidents)} open incident(s)", blocks[:MAX_BLOCKS]


def timeline_lines(events: Sequence[TimelineEvent]) -> list[str]:
    lines = []
    for event in events:
        actor = "Warroom" if event.actor == "warroom" else f"<@{event.actor}>"
        link = f" (<{event.link}|message>)" if event.link else ""
        lines.append(
            f"`{event.at:%Y-%m-%d %H:%M:%S}` *{event.kind}* {actor}: {escape(clip(event.text, 500))}{link}"
        )
    return lines


def timeline_message(
    incident: IncidentView, events: Sequence[TimelineEvent]
) -> tuple[str, list[Block], str | None]:
    """Returns (text, blocks, overflow): overflow is the full timeline as text when it does not fit."""
    lines = timeline_lines(events)
    blocks: list[Block] = [header(f"Timeline of {incident.handle} (UTC)")]
    chunk: list[str] = []
    total = 0
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
        total += len(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if len(blocks) > 20 or total > 11000:
        full = "\n".join(f"{e.at:%Y-%m-%d %H:%M:%S} {e.kind} {e.actor}: {e.text}" for e in events)
        tail = timeline_lines(events[-15:])
        return (
            f"Timeline of {incident.handle}: {len(events)} events",
            [
                header(f"Timeline of {incident.handle} (UTC)"),
                context(f"{len(events)} events; the last 15 below, the whole timeline is attached."),
                section("\n".join(tail)),
            ],
            full,
        )
    return f"Timeline of {incident.handle}: {len(events)} events", blocks, None


def help_message(usages: Sequence[tuple[str, str]]) -> tuple[str, list[Block]]:
    # Usages hold <placeholders>: escaped, or Slack would read them as links and drop them.
    lines = [f"`{escape(f'/incident {usage}'.strip())}` — {escape(summary)}" for usage, summary in usages]
    return "Warroom commands", [header("Warroom — /incident commands"), section("\n".join(lines))]


def home_view(incidents: Sequence[IncidentView]) -> Block:
    """The App Home tab: the open incidents."""
    _, blocks = incident_list(incidents)
    return {"type": "home", "blocks": blocks}
