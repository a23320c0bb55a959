"""/incident page @user|@group|tierN|rotation:<name> … and /incident oncall [p0..p3]."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config.policy import SEVERITY_KEYS, Policy
from bot.escalation import manual
from bot.escalation import service as escalation
from bot.escalation.manual import PAGE_USAGE
from bot.escalation.models import EscalationState
from bot.escalation.targets import GroupCache
from bot.i18n import N_, _
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.slack.blocks.page import oncall_blocks
from handlers.subcommands import CommandContext, subcommand


@subcommand(
    "page", PAGE_USAGE, N_("Page someone now: a DM with an Acknowledge button (and SMS/e-mail if set).")
)
def page(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    outcome = manual.page_now(ctx.runtime, ctx.incident_id, ctx.args.split(), ctx.user_id, ctx.request_key)
    if outcome.duplicate:
        ctx.respond(text=_("That page request was already handled."))
        return
    lines = []
    for delivery in outcome.deliveries:
        if delivery.slack.get("ok"):
            lines.append(_("{who}: paged by DM", who=f"<@{delivery.target}>"))
        else:
            error = delivery.slack.get("error") or _("queued")
            lines.append(
                _(
                    "{who}: {error} — retrying, it is on the timeline",
                    who=f"<@{delivery.target}>",
                    error=error,
                )
            )
    lines += [_("Could not resolve {target}: {code}", target=e.target, code=e.code) for e in outcome.errors]
    ctx.respond(text="\n".join([_("Paging ({label}):", label=outcome.label), *lines]))


def _rotation_line(until: datetime | None, zone: str | None) -> str:
    if until is None or zone is None:
        return ""
    local = until.astimezone(ZoneInfo(zone))
    # The date's spelling is itself a message: "Mon 30 Mar 10:00" in English, "03月30日 10:00" in Chinese.
    when = local.strftime(_("%a %d %b %H:%M"))
    return _(" until {when} {zone}", when=when, zone=zone)


def oncall_text(policy: Policy, ladder_name: str, now: datetime, groups: GroupCache) -> str:
    ladder = escalation.ladder(policy, ladder_name)
    lines = [
        _(
            "*Who would be paged right now* — `{ladder}` escalation policy, repeat {repeat}:",
            ladder=ladder_name,
            repeat=ladder.repeat,
        )
    ]
    previous = None
    for line in escalation.on_call_now(policy, ladder, now, groups):
        if line.tier != previous:
            if previous is None:
                lines.append(
                    _("*{tier}* — paged first; waits {timeout}", tier=line.tier, timeout=line.timeout)
                )
            else:
                lines.append(
                    _(
                        "*{tier}* — paged if {previous} has not acknowledged; waits {timeout}",
                        tier=line.tier,
                        previous=previous,
                        timeout=line.timeout,
                    )
                )
            previous = line.tier
        if not line.target:
            lines.append(_("  • nobody: this tier has no targets in the policy"))
            continue
        shown = f"<!subteam^{line.target}>" if line.kind == "group" else line.target
        if line.kind == "user":
            lines.append(f"  • <@{line.target}>")
        elif line.error:
            lines.append(_("  • {target}: could not resolve ({error})", target=shown, error=line.error))
        else:
            people = _(", ").join(f"<@{u}>" for u in line.users) or _("nobody")
            lines.append(f"  • {shown} → {people}{_rotation_line(line.until, line.timezone)}")
    text = "\n".join(lines)
    return text if len(text) <= 2900 else text[:2899] + "…"


@subcommand(
    "oncall",
    "oncall [p0|p1|p2|p3]",
    N_("Who each escalation tier would page right now (rotations and groups resolved)."),
    in_incident=False,
)
def oncall(ctx: CommandContext) -> None:
    runtime = ctx.runtime
    now = runtime.clock.now()
    arg = ctx.args.lower().split()[0] if ctx.args else ""
    if arg and arg not in SEVERITY_KEYS:
        raise IncidentError(_("`/incident oncall` or `/incident oncall p0` (p0, p1, p2 or p3)."))
    policy, name = runtime.policy, escalation.ladder_name(runtime.policy, arg or "p1")
    if not arg:
        name = escalation.DEFAULT_POLICY
        with runtime.session() as session:
            incident = session.scalar(select(Incident).where(Incident.channel_id == ctx.channel_id))
            if incident is not None:  # inside a war room: that incident's own (snapshotted) ladder
                policy = escalation.snapshot_policy(incident)
                state = session.get(EscalationState, incident.id)
                name = state.policy if state else escalation.ladder_name(policy, incident.severity)
    text = oncall_text(policy, name, now, GroupCache(runtime.pager))
    ctx.respond(text=text, blocks=oncall_blocks(text))
