"""`/incident <type> p0..p3 <title>`, `/incident contacts`, `/incident audit`, and who sees a private incident."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.audit.export import export
from bot.config.policy import SEVERITY_KEYS
from bot.escalation.targets import GroupCache
from bot.i18n import N_, _
from bot.incidents import flows, service
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.views import IncidentView
from bot.ports import ChatError
from bot.runtime import Runtime
from bot.security.contacts import desks
from bot.slack.blocks.incident import declare_answer
from bot.slack.blocks.security import contacts_blocks
from bot.slack.gateway import SlackGateway
from bot.text import escape
from handlers.faults import NOT_DECLARED, Attempt
from handlers.subcommands import CommandContext, subcommand

log = logging.getLogger(__name__)


def _usage(type_name: str) -> str:
    return _(
        "Declare a {kind} incident with `/incident {kind} p1 <title>` (p0, p1, p2 or p3).", kind=type_name
    )


def declare_typed(runtime: Runtime, ack: Ack, body: dict[str, Any], text: str, respond: Respond) -> None:
    """`/incident security p1 Leaked AWS key`: the type's desk, label, checklist and room."""
    type_name, _sp, rest = text.partition(" ")
    type_name = type_name.lower()
    severity, _sp, title = rest.partition(" ")
    severity = severity.lower()
    if severity not in SEVERITY_KEYS:
        ack(text=escape(_usage(type_name)))
        return
    try:
        service.validate_title(title)
    except IncidentError as exc:
        ack(text=escape(str(exc)))
        return
    # The title is not echoed: a private incident's title stays between the declarer and the room.
    ack(text=_("⏳ Declaring a {kind} incident ({severity}).", kind=type_name, severity=severity.upper()))
    attempt = Attempt()
    try:
        result = flows.declare(
            runtime,
            severity=severity,
            title=title,
            reporter_id=body["user_id"],
            origin_channel_id=body.get("channel_id"),
            request_key=body.get("trigger_id"),
            incident_type=type_name,
        )
    except IncidentError as exc:
        respond(text=escape(str(exc)))
        return
    except Exception as exc:
        trouble = attempt.trouble(exc, NOT_DECLARED)
        if trouble is None:
            log.exception("/incident %s failed", type_name)
            respond(text=_("Something went wrong declaring; it is logged. Nothing was lost: try again."))
            return
        respond(text=trouble)
        return
    respond(text=declare_answer(result.incident.outside(), result.created, result.problems, result.pending))


def visible(client: WebClient, user_id: str, views: Sequence[IncidentView]) -> list[IncidentView]:
    """The incidents a person may see listed: every public one, and private ones whose room they are in."""
    gateway = SlackGateway(client)
    shown = []
    for view in views:
        if view.private:
            try:
                if not (view.channel_id and gateway.is_member(view.channel_id, user_id)):
                    continue
            except ChatError:  # cannot tell: keep it hidden
                continue
        shown.append(view)
    return shown


@subcommand(
    "contacts",
    "contacts",
    N_("Who is on call now at each desk, and the external support lines."),
    in_incident=False,
)
def contacts(ctx: CommandContext) -> None:
    runtime = ctx.runtime
    found = desks(runtime.policy, runtime.clock.now(), GroupCache(runtime.pager))
    text, blocks = contacts_blocks(found, list(runtime.policy.external_contacts))
    ctx.respond(text=text, blocks=blocks)


@subcommand("audit", "audit", N_("Upload this incident's complete audit record (CSV and JSON)."))
def audit(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    with ctx.runtime.session() as session:
        incident = session.get(Incident, ctx.incident_id)
        assert incident is not None
        record = export(session, incident.id, incident.channel_id)
    name = f"inc-{record.incident_id}-audit"
    title = _("INC-{id} audit record", id=record.incident_id)
    comment = _(
        "Audit record of INC-{id}: {count} entries (diagnostics and remediations; secrets masked).",
        id=record.incident_id,
        count=len(record.rows),
    )
    files = ctx.runtime.files
    files.upload(ctx.channel_id, f"{name}.csv", title + " (CSV)", record.csv, comment)
    files.upload(ctx.channel_id, f"{name}.json", title + " (JSON)", record.json, "")
    ctx.respond(
        text=_("Uploaded the audit record ({count} entries) as CSV and JSON.", count=len(record.rows))
    )
