"""Security incidents and the contact book (SPEC §13): restricted announcements, contacts, audit exports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config.policy import Policy
from bot.config.security import ExternalContact
from bot.escalation.service import OnCallLine
from bot.i18n import _
from bot.incidents.views import IncidentView
from bot.security.contacts import Desk
from bot.slack.blocks import incident as incident_blocks
from bot.slack.blocks.common import MAX_BLOCKS, Block, context, escape, header, section, user


def announcement_for(incident: IncidentView) -> tuple[str, list[Block]]:
    """The announcement; a private incident's says only that one was declared, and by whom."""
    if not incident.private:
        return incident_blocks.announcement(incident)
    text = _(
        "🔒 {handle} {severity}: a restricted incident was declared by {who}.",
        handle=incident.handle,
        severity=incident.severity_tag,
        who=user(incident.reporter_id),
    )
    note = _("Its room is private; the people it needs are invited.")
    return text, [section(text), context(note)]


NO_TYPE = "none"


def type_block(policy: Policy) -> Block:
    """The declare modal's Type select: an ordinary incident, or one of `incident_types`."""
    options = [{"text": {"type": "plain_text", "text": _("Ordinary incident")}, "value": NO_TYPE}]
    for name, kind in sorted(policy.incident_types.items()):
        label = f"{name} · {kind.label}" + (" · " + _("private") if kind.private else "")
        options.append({"text": {"type": "plain_text", "text": label[:75]}, "value": name})
    return {
        "type": "input",
        "block_id": "incident_type",
        "optional": True,
        "label": {"type": "plain_text", "text": _("Type")},
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": options,
            "initial_option": options[0],
        },
    }


def _person_line(line: OnCallLine) -> str:
    if not line.target:
        return _("nobody: this tier has no targets in the policy")
    if line.kind == "user":
        return user(line.target)
    shown = f"<!subteam^{line.target}>" if line.kind == "group" else escape(line.target)
    if line.error:
        return _("{target}: could not resolve ({error})", target=shown, error=line.error)
    people = ", ".join(user(u) for u in line.users) or _("nobody")
    if line.until is not None and line.timezone:
        local = line.until.astimezone(ZoneInfo(line.timezone))
        until = f"{local:%a %d %b %H:%M} {line.timezone}"
        return _("{target} → {people} until {until}", target=shown, people=people, until=until)
    return f"{shown} → {people}"


def _external_line(contact: ExternalContact) -> str:
    parts = [f"*{escape(contact.name)}*"]
    parts += [escape(v) for v in (contact.phone, contact.email) if v]
    if contact.url:
        parts.append(f"<{contact.url}|{escape(contact.url)}>")
    if contact.note:
        parts.append(f"_{escape(contact.note)}_")
    return " · ".join(parts)


def contacts_blocks(desks: list[Desk], external: list[ExternalContact]) -> tuple[str, list[Block]]:
    """`/incident contacts`: each desk with who is on call now, then the external support lines."""
    blocks: list[Block] = [header(_("Contacts — who is on call now"))]
    for desk in desks:
        title = _("Desk `{desk}`", desk=desk.name)
        if desk.types:
            title += " · " + _("pages for: {types}", types=", ".join(desk.types))
        people = "\n".join(f"• {_person_line(line)}" for line in desk.lines)
        blocks.append(section(f"*{title}*\n{people}"))
    if external:
        lines = "\n".join(f"• {_external_line(c)}" for c in external)
        blocks.append(section("*" + _("External contacts") + "*\n" + lines))
    else:
        blocks.append(
            context(_("No external contacts: add them under `external_contacts` in the policy file."))
        )
    text = _("Contacts: who is on call now at each desk, and the external support lines.")
    return text, blocks[:MAX_BLOCKS]
