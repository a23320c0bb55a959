"""/incident drill p0..p3 <title> | list drills — practice runs of the real response (SPEC §12)."""

from __future__ import annotations

from bot.config.policy import SEVERITY_KEYS
from bot.i18n import N_, _
from bot.incidents import flows, service
from bot.incidents.service import IncidentError
from bot.slack.blocks.drills import drill_list
from bot.slack.blocks.incident import declare_answer
from handlers.security import visible
from handlers.subcommands import CommandContext, subcommand


@subcommand(
    "drill",
    "drill p0|p1|p2|p3 <title>",
    N_(
        "Run a drill: the real response — room, pages, clock — marked DRILL, kept out of metrics and reports."
    ),
    in_incident=False,
)
def drill(ctx: CommandContext) -> None:
    severity, _sep, title = ctx.args.partition(" ")
    if severity.lower() not in SEVERITY_KEYS:
        raise IncidentError(
            _(
                "A drill needs a severity and a title: `/incident drill p1 Checkout returns 502` "
                "(p0, p1, p2 or p3)."
            )
        )
    result = flows.declare(
        ctx.runtime,
        severity=severity.lower(),
        title=title,
        reporter_id=ctx.user_id,
        origin_channel_id=ctx.channel_id or None,
        request_key=ctx.request_key,
        drill=True,
    )
    ctx.respond(text=declare_answer(result.incident, result.created, result.problems, result.pending))


def list_drills(ctx: CommandContext) -> None:
    """`/incident list drills` (the `list` verb hands over here)."""
    with ctx.runtime.session() as session:
        views = [service.view(session, i) for i in service.open_incidents(session, drills=True)]
    views = visible(ctx.client, ctx.user_id, views)  # a private drill only for its room's members
    text, blocks = drill_list(views)
    ctx.respond(text=text, blocks=blocks)
