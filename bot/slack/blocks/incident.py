"""War-room messages: the pinned summary, the response checklist, the announcement, lists and help."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.i18n import N_, _, ngettext
from bot.incidents.models import TimelineEvent
from bot.incidents.setup_steps import problem_text
from bot.incidents.timeline import event_text, kind_label
from bot.incidents.views import ChecklistView, IncidentView, status_word
from bot.response.steps import LABELS
from bot.response.timers import format_over
from bot.security.types import SECURITY_TEXTS
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
    sections,
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

STATUS_TITLE = {
    "declared": N_("Declared"),
    "acknowledged": N_("Acknowledged"),
    "mitigated": N_("Mitigated"),
    "resolved": N_("Resolved"),
}


def title_line(incident: IncidentView) -> str:
    return f"{SEVERITY_ICON.get(incident.severity, '')} {incident.handle} {incident.severity_tag}: {incident.title}"


def summary_message(incident: IncidentView) -> tuple[str, list[Block]]:
    status_title = _(STATUS_TITLE[incident.status]) if incident.status in STATUS_TITLE else incident.status
    status = f"{STATUS_ICON.get(incident.status, '')} {status_title}"
    roles = ", ".join(
        f"{role}: {user(uid)}" for role, uid in sorted(incident.roles.items()) if role != "commander"
    )
    blocks: list[Block] = [
        header(title_line(incident)),
        fields(
            [
                (_("Severity"), f"{incident.severity_tag} · {incident.severity_label}"),
                (_("Status"), status),
                (_("Commander"), user(incident.commander_id)),
                (_("Respond by"), when(incident.response_due_at)),
                (
                    _("Declared"),
                    _("{when} by {who}", when=when(incident.declared_at), who=user(incident.reporter_id)),
                ),
                (
                    _("Acknowledged"),
                    f"{when(incident.acknowledged_at)} {user(incident.acknowledged_by) if incident.acknowledged_by else ''}".strip(),
                ),
            ]
        ),
    ]
    if roles:
        blocks.append(context(_("Roles — {roles}", roles=roles)))
    overdue = [step_name(item.step) for item in incident.checklist if item.overdue and item.step]
    if overdue:
        blocks.append(section(_("⏰ *Overdue:* {steps}", steps=escape(", ".join(overdue)))))
    if incident.last_status_update:
        blocks.append(section(_("*Latest status:* {text}", text=escape(incident.last_status_update))))
    if incident.alert:
        blocks.extend(alert_blocks(incident.alert))  # with its own, stricter escaping
    value = str(incident.id)
    if incident.status != "resolved":
        buttons = []
        if incident.acknowledged_at is None:
            buttons.append(button(_("Acknowledge"), ACK_ACTION, value, "primary"))
        buttons.append(button(_("Status update"), STATUS_ACTION, value))
        buttons.append(button(_("Resolve"), RESOLVE_ACTION, value, "danger"))
        blocks.append(actions("incident_summary_actions", *buttons))
    blocks.append(
        context(
            _(
                "`/incident help` lists every command. Pin a message or react :pushpin: to add it to the timeline."
            )
        )
    )
    # The fallback is mrkdwn too (Slack notifies on it): the title is escaped there as in the blocks.
    text = f"{incident.handle} {incident.severity_tag} ({incident.severity_label}) — {escape(incident.title)} — {status_word(incident.status)}"
    return text, blocks


def checklist_message(incident: IncidentView) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        section(_("*Response checklist* (the runbook's steps) — tick each item as it is done:"))
    ]
    for item in incident.checklist:
        mark = "✅" if item.done_by else ("⏰" if item.overdue else "⬜")
        done = f" — {user(item.done_by)}" if item.done_by else ""
        block = section(f"{mark} {escape(step_label(item))}{clock_note(incident, item)}{done}")
        block["accessory"] = button(
            _("Undo") if item.done_by else _("Done"), CHECKLIST_ACTION, f"{incident.id}:{item.position}"
        )
        blocks.append(block)
    return _("Response checklist for {ref}", ref=incident.handle), blocks


def step_label(item: ChecklistView) -> str:
    """The step's label in the language in force; a row of no known step keeps its stored text."""
    if item.text in SECURITY_TEXTS:  # a type's own checklist on a step's clock: its own words
        return _(item.text)
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
    channel = f"<#{incident.channel_id}>" if incident.channel_id else _("(channel not created)")
    text = _(
        "{title} — declared by {who}. Join {channel}.",
        title=escape(title_line(incident)),
        who=f"<@{incident.reporter_id}>",
        channel=channel,
    )
    return text, [
        section(
            f"*{escape(title_line(incident))}*\n"
            + _(
                "{label} · declared by {who} · join {channel}",
                label=incident.severity_label,
                who=user(incident.reporter_id),
                channel=channel,
            )
        )
    ]


def declare_answer(incident: IncidentView, created: bool, problems: list[str], pending: list[str]) -> str:
    """The declarer's answer: the room, or the honest state of it — never "(no channel)" while it is
    being set up."""
    if incident.channel_id:
        where = f"<#{incident.channel_id}>"
    elif pending and created:
        where = _("the room is being set up — I'll message you when it is ready")
    elif pending:
        where = _("the room is being set up")
    else:
        where = _("no room could be made (see below)")
    if not created:
        return _(
            "You declared this a moment ago: *{ref}* {where}. No second incident was opened.",
            ref=incident.handle,
            where=where,
        )
    lines = [
        _(
            "Opened *{ref}* {severity} — {title}: {where}",
            ref=incident.handle,
            severity=incident.severity_tag,
            title=escape(incident.title),
            where=where,
        )
    ]
    lines += [f"⚠️ {escape(problem_text(problem))}" for problem in problems]
    if pending and incident.channel_id:
        steps = ", ".join(_(step) for step in pending)
        lines.append(_("⏳ Still being set up: {steps}. I'll message you when it lands.", steps=steps))
    return "\n".join(lines)


def incident_line(view: IncidentView) -> str:
    """One incident in a list: icon, handle, severity, title, status and its room."""
    line = f"{SEVERITY_ICON.get(view.severity, '')} *{view.handle}* {view.severity_tag} {escape(view.title)}"
    line += f" — {status_word(view.status)}"
    return line + (f" — <#{view.channel_id}>" if view.channel_id else "")


def incident_list(incidents: Sequence[IncidentView]) -> tuple[str, list[Block]]:
    if not incidents:
        return _("No open incidents. 🎉"), [section(_("No open incidents. 🎉"))]
    lines = [incident_line(i) for i in incidents]
    blocks: list[Block] = [header(_("Open incidents ({n})", n=len(incidents)))]
    blocks += sections(lines)
    return ngettext("{n} open incident", "{n} open incidents", len(incidents)), blocks[:MAX_BLOCKS]


def timeline_lines(events: Sequence[TimelineEvent]) -> list[str]:
    lines = []
    for event in events:
        actor = "Warroom" if event.actor == "warroom" else f"<@{event.actor}>"
        label = _("message")
        link = f" (<{event.link}|{label}>)" if event.link else ""
        text = event_text(event.kind, event.text, event.data)
        lines.append(
            f"`{event.at:%Y-%m-%d %H:%M:%S}` *{kind_label(event.kind)}* {actor}: {escape(clip(text, 500))}{link}"
        )
    return lines


def timeline_message(
    incident: IncidentView, events: Sequence[TimelineEvent]
) -> tuple[str, list[Block], str | None]:
    """Returns (text, blocks, overflow): overflow is the full timeline as text when it does not fit."""
    lines = timeline_lines(events)
    heading = _("Timeline of {ref} (UTC)", ref=incident.handle)
    count = ngettext("{n} event", "{n} events", len(events))
    blocks: list[Block] = [header(heading)]
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
        full = "\n".join(
            f"{e.at:%Y-%m-%d %H:%M:%S} {kind_label(e.kind)} {e.actor}: {event_text(e.kind, e.text, e.data)}"
            for e in events
        )
        tail = timeline_lines(events[-15:])
        return (
            _("Timeline of {ref}: {count}", ref=incident.handle, count=count),
            [
                header(heading),
                context(_("{count}; the last 15 below, the whole timeline is attached.", count=count)),
                section("\n".join(tail)),
            ],
            full,
        )
    return _("Timeline of {ref}: {count}", ref=incident.handle, count=count), blocks, None


def help_message(usages: Sequence[tuple[str, str, Sequence[str]]]) -> tuple[str, list[Block]]:
    """(usage, summary already translated, Chinese aliases of the verb) per command."""
    # Usages hold <placeholders>: escaped, or Slack would read them as links and drop them.
    lines = []
    for usage, summary, aliases in usages:
        line = f"`{escape(f'/incident {usage}'.strip())}` — {escape(summary)}"
        if aliases:
            line += " " + _("(also: {aliases})", aliases=" ".join(f"`{a}`" for a in aliases))
        lines.append(line)
    blocks = [header(_("Warroom — /incident commands"))]
    blocks += sections(lines)  # many verbs: no section may pass Slack's 3,000 characters
    return _("Warroom commands"), blocks


def home_view(incidents: Sequence[IncidentView]) -> Block:
    """The App Home tab: the open incidents."""
    _, blocks = incident_list(incidents)
    return {"type": "home", "blocks": blocks}
