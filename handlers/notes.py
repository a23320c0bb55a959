"""/incident note <text> | status <text> | timeline."""

from __future__ import annotations

from bot.i18n import N_, _
from bot.incidents import flows
from bot.incidents import timeline as timeline_store
from bot.incidents.service import IncidentError
from bot.incidents.timeline import EventKind
from bot.slack.blocks.incident import timeline_message
from handlers.subcommands import CommandContext, subcommand


def _key(ctx: CommandContext) -> str | None:
    # A retried request carries the same trigger_id: the entry is written once.
    return f"cmd:{ctx.request_key}" if ctx.request_key else None


@subcommand("note", "note <text>", N_("Add a note to the timeline."))
def note(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    if not ctx.args:
        raise IncidentError(_("Say what to record: `/incident note Rolled back to v1.4.2`."))
    flows.add_entry(ctx.runtime, ctx.incident_id, ctx.user_id, EventKind.NOTE, ctx.args, dedupe_key=_key(ctx))
    ctx.respond(text=_("📝 Noted on the timeline."))


@subcommand("status", "status <text>", N_("Post a status update for stakeholders (shown on the summary)."))
def status(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    if not ctx.args:
        raise IncidentError(
            _("Write the update: `/incident status Checkout is failing over to the standby DB`.")
        )
    flows.add_entry(
        ctx.runtime, ctx.incident_id, ctx.user_id, EventKind.STATUS_UPDATE, ctx.args, dedupe_key=_key(ctx)
    )
    ctx.respond(text=_("📣 Status update posted."))


@subcommand("timeline", "timeline", N_("Show the timeline, oldest first."))
def timeline(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    view = flows.current_view(ctx.runtime, ctx.incident_id)
    with ctx.runtime.session() as session:
        events = timeline_store.events(session, ctx.incident_id)
        text, blocks, overflow = timeline_message(view, events)
    if overflow is not None:
        ctx.runtime.files.upload(
            ctx.channel_id,
            f"{view.handle.lower()}-timeline.txt",
            _("Timeline of {ref}", ref=view.handle),
            overflow,
            text,
        )
    ctx.respond(text=text, blocks=blocks)
