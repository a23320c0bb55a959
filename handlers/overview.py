"""/incident list | help — usable from any channel."""

from __future__ import annotations

from bot.i18n import N_, _
from bot.incidents import service
from bot.slack.blocks.drills import drills_hint
from bot.slack.blocks.incident import help_message, incident_list
from handlers.drills import list_drills
from handlers.security import visible
from handlers.subcommands import SUBCOMMANDS, CommandContext, aliases_of, subcommand


@subcommand(
    "list",
    "list [drills]",
    N_("Open incidents, most severe first; `list drills`: drills running."),
    in_incident=False,
)
def list_open(ctx: CommandContext) -> None:
    if ctx.args.lower() == "drills":
        return list_drills(ctx)
    with ctx.runtime.session() as session:
        views = [service.view(session, incident) for incident in service.open_incidents(session)]
        drills = len(service.open_incidents(session, drills=True))  # listed apart, only counted here
    views = visible(ctx.client, ctx.user_id, views)  # a private incident only for its room's members
    text, blocks = incident_list(views)
    ctx.respond(text=text, blocks=blocks + drills_hint(drills))


@subcommand("help", "help", N_("This list."), in_incident=False)
def help_(ctx: CommandContext) -> None:
    usages = [
        ("p0|p1|p2|p3 <title>", _("Declare an incident and open its war room."), []),
        ("", _("Open the declare form."), []),
    ]
    types = ctx.runtime.policy.incident_types
    if types:
        usages.append(
            (
                "<type> p0|p1|p2|p3 <title>",
                _(
                    "Declare an incident of a type — {types} — with its own desk and checklist "
                    "(a private room where the type says so).",
                    types=", ".join(f"`{name}`" for name in sorted(types)),
                ),
                [],
            )
        )
    usages += [(cmd.usage, _(cmd.summary), aliases_of(cmd.name)) for cmd in SUBCOMMANDS.values()]
    text, blocks = help_message(usages)
    ctx.respond(text=text, blocks=blocks)
