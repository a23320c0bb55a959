"""/incident ack | mitigated | resolve | reopen | sev pN | commander @user | role <role> @user."""

from __future__ import annotations

from bot.incidents import flows
from bot.incidents.service import IncidentError
from handlers.parsing import parse_user
from handlers.subcommands import CommandContext, subcommand


def _status(change: str):  # type: ignore[no-untyped-def]
    def run(ctx: CommandContext) -> None:
        assert ctx.incident_id is not None
        view = flows.change_status(ctx.runtime, ctx.incident_id, ctx.user_id, change)
        ctx.respond(text=f"{view.handle} is now {view.status}.")

    return run


subcommand("ack", "ack", "Acknowledge: you are on it; escalation stops.")(_status("acknowledged"))
subcommand("mitigated", "mitigated", "The impact is mitigated (the fix may still be pending).")(
    _status("mitigated")
)
subcommand("resolve", "resolve", "Resolve the incident; the postmortem draft follows.")(_status("resolved"))
subcommand("reopen", "reopen", "Reopen a resolved incident.")(_status("reopened"))


@subcommand("sev", "sev p0|p1|p2|p3", "Change the severity (and its response target).")
def severity(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    if not ctx.args:
        raise IncidentError("Which severity? `/incident sev p0` (p0, p1, p2 or p3).")
    view = flows.set_severity(ctx.runtime, ctx.incident_id, ctx.user_id, ctx.args.split()[0])
    ctx.respond(text=f"{view.handle} is now {view.severity_tag}.")


@subcommand("commander", "commander @user", "Make someone the incident commander.")
def commander(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    user_id = parse_user(ctx.args, "/incident commander @user")
    flows.assign_role(ctx.runtime, ctx.incident_id, ctx.user_id, "commander", user_id)
    ctx.respond(text=f"<@{user_id}> is now commander.")


@subcommand("role", "role <role> @user", "Give someone a role (comms, scribe, ops, … as configured).")
def role(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    name, _, who = ctx.args.partition(" ")
    roles = ", ".join(ctx.runtime.policy.incident_roles)
    if not name or not who:
        raise IncidentError(f"`/incident role <role> @user` — roles: {roles}.")
    user_id = parse_user(who, f"/incident role {name} @user")
    flows.assign_role(ctx.runtime, ctx.incident_id, ctx.user_id, name, user_id)
    ctx.respond(text=f"<@{user_id}> is now {name.lower()}.")
