"""/incident postmortem [en|zh] | action <text> [@owner] | action done <n> | review [done]."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.idempotency import claim
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
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
        raise IncidentError(f"There is no incident INC-{ctx.incident_id}.")
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
    "Draft the postmortem from the timeline and upload it here as a Markdown file.",
)
def draft(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    language = ctx.args.lower() or None
    if language is not None and language not in LANGUAGES:
        raise IncidentError(
            f"`{ctx.args}` is not a language I write postmortems in. "
            "Type `/incident postmortem` (the configured language), `/incident postmortem en` or "
            "`/incident postmortem zh`."
        )
    if not _first_time(ctx, "postmortem"):
        return
    result = flows.publish(ctx.runtime, ctx.incident_id, ctx.user_id, language=language)
    if result.uploaded:
        ctx.respond(
            text=f"📝 Postmortem draft v{result.version} is uploaded to this channel. "
            "Fill in the root cause, improvements and prevention, then `/incident review done`."
        )
    else:
        ctx.respond(
            text=f"⚠️ Postmortem draft v{result.version} is stored, but the upload failed "
            f"({result.error}). Try `/incident postmortem` again, or print it with "
            f"`warroom postmortem {ctx.incident_id}`."
        )


def _list_actions(ctx: CommandContext) -> None:
    with ctx.runtime.session() as session:
        items = postmortem.actions(session, _incident(session, ctx).id)
        lines = [
            f"{n}. {'~' if item.done_at else ''}{escape(item.text)}{'~' if item.done_at else ''} — "
            + (f"<@{item.owner_id}>" if item.owner_id else "_unassigned_")
            + (" ✅" if item.done_at else "")
            for n, item in enumerate(items, start=1)
        ]
    if not lines:
        ctx.respond(
            text="No action items yet. Add one: `/incident action Alert on DB connections at 80% @alice`."
        )
        return
    ctx.respond(text="*Action items*\n" + "\n".join(lines) + "\n`/incident action done <n>` ticks one off.")


@subcommand(
    "action",
    "action <text> [@owner] | action done <n>",
    "Add an action item for the postmortem (or list them, or mark one done).",
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
        ctx.respond(text=f"✅ Action item {done.group(1)} is done: {escape(text)}")
        return
    text, owner = postmortem.parse_action(ctx.args)
    with ctx.runtime.session() as session:
        if ctx.request_key and not claim(session, f"action:{ctx.request_key}"):
            return  # a Slack retry of a request already recorded
        number, _item = postmortem.add_action(session, _incident(session, ctx), text, owner, ctx.user_id, now)
    who = f", owner <@{owner}>" if owner else " (no owner yet: add one with `@name` at the end)"
    ctx.respond(text=f"📌 Action item {number} recorded{who}: {escape(text)}")


@subcommand("review", "review [done]", "Show the postmortem review deadline, or mark the review done.")
def review(ctx: CommandContext) -> None:
    word = ctx.args.lower()
    if word not in ("", "done"):
        raise IncidentError(
            "Type `/incident review done` once the postmortem is reviewed, or `/incident review` for the deadline."
        )
    now = ctx.runtime.clock.now()
    with ctx.runtime.session() as session:
        incident = _incident(session, ctx)
        row = session.get(ReviewReminder, incident.id)
        if word == "done":
            reminders.mark_done(session, incident, ctx.user_id, now)
            text = f"✅ The postmortem review of INC-{incident.id} is done. No more reminders."
        elif row is None:
            text = f"INC-{incident.id} is {incident.status}: the review deadline starts when it is resolved."
        elif row.done_at is not None:
            text = (
                f"The review of INC-{incident.id} was marked done by <@{row.done_by}> "
                f"on {row.done_at:%Y-%m-%d %H:%M} UTC."
            )
        else:
            sent = f"; {row.reminders_sent} reminder(s) sent" if row.reminders_sent else ""
            text = (
                f"The postmortem review of INC-{incident.id} is due by {row.due_at:%Y-%m-%d %H:%M} UTC{sent}. "
                "`/incident review done` once it is reviewed."
            )
    ctx.respond(text=text)
