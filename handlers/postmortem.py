"""/incident postmortem [en|zh] | action <text> [@owner] | action done <n> | review [done]."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.i18n import N_, _, ngettext
from bot.idempotency import claim
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.views import status_word
from bot.postmortem import flows, reminders
from bot.postmortem import service as postmortem
from bot.postmortem.models import ReviewReminder
from bot.postmortem.render import LANGUAGES
from bot.text import escape
from handlers.subcommands import CommandContext, subcommand

_DONE = re.compile(r"^done\s+#?(\d+)$", re.IGNORECASE)


def _incident(session: Session, ctx: CommandContext) -> Incident:
    assert ctx.incident_id is not None
    incident = session.get(Incident, ctx.incident_id)
    if incident is None:
        raise IncidentError(_("There is no incident {ref}.", ref=f"INC-{ctx.incident_id}"))
    return incident


def _first_time(ctx: CommandContext, verb: str) -> bool:
    """False when Slack retried this very request (same trigger_id): do the work once."""
    if not ctx.request_key:
        return True
    with ctx.runtime.session() as session:
        return claim(session, f"{verb}:{ctx.request_key}")


@subcommand(
    "postmortem",
    "postmortem [en|zh]",
    N_("Draft the postmortem from the timeline and upload it here as a Markdown file."),
)
def draft(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    language = ctx.args.lower() or None
    if language is not None and language not in LANGUAGES:
        raise IncidentError(
            _(
                "`{language}` is not a language I write postmortems in. "
                "Type `/incident postmortem` (the configured language), `/incident postmortem en` or "
                "`/incident postmortem zh`.",
                language=ctx.args,
            )
        )
    if not _first_time(ctx, "postmortem"):
        return
    result = flows.publish(ctx.runtime, ctx.incident_id, ctx.user_id, language=language)
    if result.uploaded:
        ctx.respond(
            text=_(
                "📝 Postmortem draft v{version} is uploaded to this channel. "
                "Fill in the root cause, improvements and prevention, then `/incident review done`.",
                version=result.version,
            )
        )
    else:
        ctx.respond(
            text=_(
                "⚠️ Postmortem draft v{version} is stored, but the upload failed ({error}). "
                "Try `/incident postmortem` again, or print it with `warroom postmortem {id}`.",
                version=result.version,
                error=result.error,
                id=ctx.incident_id,
            )
        )


def _list_actions(ctx: CommandContext) -> None:
    with ctx.runtime.session() as session:
        items = postmortem.actions(session, _incident(session, ctx).id)
        lines = [
            f"{n}. {'~' if item.done_at else ''}{escape(item.text)}{'~' if item.done_at else ''} — "
            + (f"<@{item.owner_id}>" if item.owner_id else _("_unassigned_"))
            + (" ✅" if item.done_at else "")
            for n, item in enumerate(items, start=1)
        ]
    if not lines:
        ctx.respond(
            text=_("No action items yet. Add one: `/incident action Alert on DB connections at 80% @alice`.")
        )
        return
    ctx.respond(
        text=_("*Action items*")
        + "\n"
        + "\n".join(lines)
        + "\n"
        + _("`/incident action done <n>` ticks one off.")
    )


@subcommand(
    "action",
    "action <text> [@owner] | action done <n>",
    N_("Add an action item for the postmortem (or list them, or mark one done)."),
)
def action(ctx: CommandContext) -> None:
    if not ctx.args:
        _list_actions(ctx)
        return
    now = ctx.runtime.clock.now()
    done = _DONE.match(ctx.args)
    if done:
        with ctx.runtime.session() as session:
            item = postmortem.complete_action(
                session, _incident(session, ctx), int(done.group(1)), ctx.user_id, now
            )
            text = item.text
        ctx.respond(text=_("✅ Action item {n} is done: {text}", n=done.group(1), text=escape(text)))
        return
    text, owner = postmortem.parse_action(ctx.args)
    with ctx.runtime.session() as session:
        if ctx.request_key and not claim(session, f"action:{ctx.request_key}"):
            return  # a Slack retry of a request already recorded
        number, _item = postmortem.add_action(session, _incident(session, ctx), text, owner, ctx.user_id, now)
    if owner:
        said = _(
            "📌 Action item {n} recorded, owner {who}: {text}", n=number, who=f"<@{owner}>", text=escape(text)
        )
    else:
        said = _(
            "📌 Action item {n} recorded (no owner yet: add one with `@name` at the end): {text}",
            n=number,
            text=escape(text),
        )
    ctx.respond(text=said)


@subcommand("review", "review [done]", N_("Show the postmortem review deadline, or mark the review done."))
def review(ctx: CommandContext) -> None:
    word = ctx.args.lower()
    if word not in ("", "done"):
        raise IncidentError(
            _(
                "Type `/incident review done` once the postmortem is reviewed, or `/incident review` for the deadline."
            )
        )
    now = ctx.runtime.clock.now()
    with ctx.runtime.session() as session:
        incident = _incident(session, ctx)
        row = session.get(ReviewReminder, incident.id)
        if word == "done":
            reminders.mark_done(session, incident, ctx.user_id, now)
            text = _(
                "✅ The postmortem review of {ref} is done. No more reminders.", ref=f"INC-{incident.id}"
            )
        elif row is None:
            text = _(
                "{ref} is {status}: the review deadline starts when it is resolved.",
                ref=f"INC-{incident.id}",
                status=status_word(incident.status),
            )
        elif row.done_at is not None:
            text = _(
                "The review of {ref} was marked done by {who} on {when} UTC.",
                ref=f"INC-{incident.id}",
                who=f"<@{row.done_by}>",
                when=f"{row.done_at:%Y-%m-%d %H:%M}",
            )
        else:
            text = _(
                "The postmortem review of {ref} is due by {when} UTC.",
                ref=f"INC-{incident.id}",
                when=f"{row.due_at:%Y-%m-%d %H:%M}",
            )
            if row.reminders_sent:
                text += " " + ngettext("{n} reminder sent.", "{n} reminders sent.", row.reminders_sent)
            text += " " + _("`/incident review done` once it is reviewed.")
    ctx.respond(text=text)
