"""/incident ack | mitigated | resolve | reopen | sev pN | commander @user | role <role> @user."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.i18n import N_, _
from bot.incidents import flows, ownership
from bot.incidents.service import IncidentError
from bot.incidents.views import status_word
from bot.ports import ChatError
from bot.runtime import Runtime
from bot.slack.gateway import SlackGateway
from handlers.parsing import parse_user
from handlers.subcommands import CommandContext, subcommand

log = logging.getLogger(__name__)


def in_room(client: WebClient, channel_id: str | None, user_id: str) -> bool:
    """Whether the person is a member of the war room; unknown (Slack not answering) counts as yes."""
    if not channel_id:
        return True
    try:
        return SlackGateway(client).is_member(channel_id, user_id)
    except ChatError as exc:
        log.warning("could not read the members of %s: %s", channel_id, exc.code)
        return True


def guard(
    runtime: Runtime, client: WebClient, incident_id: int, actor: str, verb: str, where: str
) -> str | None:
    """Refuse (IncidentError) what `roles.incident_managers` reserves; returns how the actor is outside
    the war room ("the page DM", "not a member of the channel"), or None from inside it."""
    view = flows.current_view(runtime, incident_id)
    ownership.check(runtime.policy, view.id, view.commander_id, actor, verb, runtime.pager.group_members)
    if where.startswith("D"):
        return N_("from the page DM")
    if where != view.channel_id or not in_room(client, view.channel_id, actor):
        return N_("not a member of the channel")
    return None


def note_outside(
    runtime: Runtime, incident_id: int, actor: str, what: str, via: str | None, **values: str
) -> None:
    """`what` and `via` are catalog msgids (N_): the timeline renders them in each reader's language."""
    if via is None:
        return
    with runtime.session() as session:
        ownership.record_outside(session, incident_id, actor, what, via, **values)


# Stored on the timeline in English and rendered in the reader's language (bot.incidents.ownership).
DONE = {
    "acknowledged": N_("acknowledged"),
    "mitigated": N_("marked it mitigated"),
    "resolved": N_("resolved"),
    "reopened": N_("reopened"),
}
_VERB = {"acknowledged": "ack", "mitigated": "mitigated", "resolved": "resolve", "reopened": "reopen"}


def _status(change: str):  # type: ignore[no-untyped-def]
    def run(ctx: CommandContext) -> None:
        assert ctx.incident_id is not None
        via = guard(ctx.runtime, ctx.client, ctx.incident_id, ctx.user_id, _VERB[change], ctx.channel_id)
        view = flows.change_status(ctx.runtime, ctx.incident_id, ctx.user_id, change)
        note_outside(ctx.runtime, ctx.incident_id, ctx.user_id, DONE[change], via)
        ctx.respond(text=_("{ref} is now {status}.", ref=view.handle, status=status_word(view.status)))

    return run


subcommand("ack", "ack", N_("Acknowledge: you are on it; escalation stops."))(_status("acknowledged"))
subcommand("mitigated", "mitigated", N_("The impact is mitigated (the fix may still be pending)."))(
    _status("mitigated")
)
subcommand("resolve", "resolve", N_("Resolve the incident; the postmortem draft follows."))(
    _status("resolved")
)
subcommand("reopen", "reopen", N_("Reopen a resolved incident."))(_status("reopened"))


@subcommand("sev", "sev p0|p1|p2|p3", N_("Change the severity (and its response target)."))
def severity(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    if not ctx.args:
        raise IncidentError(_("Which severity? `/incident sev p0` (p0, p1, p2 or p3)."))
    via = guard(ctx.runtime, ctx.client, ctx.incident_id, ctx.user_id, "sev", ctx.channel_id)
    view = flows.set_severity(ctx.runtime, ctx.incident_id, ctx.user_id, ctx.args.split()[0])
    note_outside(
        ctx.runtime,
        ctx.incident_id,
        ctx.user_id,
        N_("changed the severity to {severity}"),
        via,
        severity=view.severity_tag,
    )
    ctx.respond(text=_("{ref} is now {status}.", ref=view.handle, status=view.severity_tag))


@subcommand("commander", "commander @user", N_("Make someone the incident commander."))
def commander(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    user_id = parse_user(ctx.args, "/incident commander @user")
    via = guard(ctx.runtime, ctx.client, ctx.incident_id, ctx.user_id, "commander", ctx.channel_id)
    flows.assign_role(ctx.runtime, ctx.incident_id, ctx.user_id, "commander", user_id)
    note_outside(
        ctx.runtime, ctx.incident_id, ctx.user_id, N_("made {who} commander"), via, who=f"<@{user_id}>"
    )
    ctx.respond(text=_("{who} is now commander.", who=f"<@{user_id}>"))


@subcommand("role", "role <role> @user", N_("Give someone a role (comms, scribe, ops, … as configured)."))
def role(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    name, _space, who = ctx.args.partition(" ")
    roles = ", ".join(ctx.runtime.policy.incident_roles)
    if not name or not who:
        raise IncidentError(_("`/incident role <role> @user` — roles: {roles}.", roles=roles))
    user_id = parse_user(who, f"/incident role {name} @user")
    verb = "commander" if name.lower() == "commander" else "role"
    via = guard(ctx.runtime, ctx.client, ctx.incident_id, ctx.user_id, verb, ctx.channel_id)
    flows.assign_role(ctx.runtime, ctx.incident_id, ctx.user_id, name, user_id)
    note_outside(
        ctx.runtime,
        ctx.incident_id,
        ctx.user_id,
        N_("made {who} {role}"),
        via,
        who=f"<@{user_id}>",
        role=name.lower(),
    )
    ctx.respond(text=_("{who} is now {role}.", who=f"<@{user_id}>", role=name.lower()))
