"""/incident page @user|@group|tierN|rotation:<name> … and /incident oncall [p0..p3]."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config.policy import SEVERITY_KEYS, EscalationPolicy, Policy
from bot.escalation import engine
from bot.escalation import service as escalation
from bot.escalation.models import EscalationState, PageOutbox
from bot.escalation.targets import GroupCache
from bot.idempotency import claim
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from handlers.subcommands import CommandContext, subcommand

PAGE_USAGE = "page @user | page tier2 | page @group | page rotation:<name>"
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
_GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$|^@?(S[A-Z0-9]{2,})$")
_TIER_NUMBER = re.compile(r"^(?:tier)?\s*(\d+)$")


def _tier(ladder: EscalationPolicy, token: str) -> int | None:
    names = [t.name.lower() for t in ladder.tiers]
    if token.lower() in names:
        return names.index(token.lower())
    match = _TIER_NUMBER.match(token.lower())
    if match and 1 <= int(match.group(1)) <= len(ladder.tiers):
        return int(match.group(1)) - 1
    return None


def parse_targets(tokens: list[str], ladder: EscalationPolicy, policy: Policy) -> tuple[list[str], str]:
    """Targets and a label for the timeline ("tier2", "manual")."""
    targets: list[str] = []
    tiers: list[str] = []
    for token in tokens:
        user, group = _USER.match(token), _GROUP.match(token)
        tier = _tier(ladder, token)
        if user:
            targets.append(user.group(1) or user.group(2))
        elif group:
            targets.append(group.group(1) or group.group(2))
        elif token.startswith("rotation:"):
            if token.removeprefix("rotation:") not in policy.rotations:
                names = ", ".join(sorted(policy.rotations)) or "none configured"
                raise IncidentError(f"There is no rotation `{token}`. Rotations: {names}.")
            targets.append(token)
        elif tier is not None:
            tiers.append(ladder.tiers[tier].name)
            if not ladder.tiers[tier].targets:
                raise IncidentError(
                    f"{ladder.tiers[tier].name} has no targets in the policy, so there is nobody to page. "
                    "Page a person instead: `/incident page @user`."
                )
            targets.extend(ladder.tiers[tier].targets)
        else:
            names = ", ".join(t.name for t in ladder.tiers)
            raise IncidentError(
                f"`{token}` is not someone I can page. Use `/incident {PAGE_USAGE}` (tiers: {names})."
            )
    return list(dict.fromkeys(targets)), "+".join(tiers) if tiers else "manual"


@subcommand("page", PAGE_USAGE, "Page someone now: a DM with an Acknowledge button (and SMS/e-mail if set).")
def page(ctx: CommandContext) -> None:
    assert ctx.incident_id is not None
    tokens = ctx.args.split()
    if not tokens:
        raise IncidentError(f"Whom should I page? `/incident {PAGE_USAGE}`.")
    runtime = ctx.runtime
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, ctx.incident_id)
        assert incident is not None
        if incident.status == "resolved":
            raise IncidentError(
                f"INC-{incident.id} is resolved. `/incident reopen` first to page anyone for it."
            )
        policy = escalation.snapshot_policy(incident)
        state = session.get(EscalationState, incident.id)
        name = state.policy if state else escalation.ladder_name(policy, incident.severity)
        targets, label = parse_targets(tokens, escalation.ladder(policy, name), policy)
        if ctx.request_key and not claim(session, f"page:{ctx.request_key}"):
            ctx.respond(text="That page request was already handled.")
            return
        result = escalation.page_by_hand(
            session, incident, targets, label, ctx.user_id, now, GroupCache(runtime.pager)
        )
        if not result.users:
            problems = ", ".join(f"{e.target} ({e.code})" for e in result.errors) or "nobody resolved"
            raise IncidentError(f"Nobody to page: {problems}.")
    # Send now, in this thread, rather than at the next tick (the claim makes it exactly-once anyway).
    engine.send_due(runtime, only_ids=result.outbox_ids)
    with runtime.session() as session:
        rows = session.scalars(select(PageOutbox).where(PageOutbox.id.in_(result.outbox_ids))).all()
    lines = []
    for row in rows:
        slack = (row.deliveries or {}).get("slack", {})
        if slack.get("ok"):
            lines.append(f"<@{row.target}>: paged by DM")
        else:
            lines.append(f"<@{row.target}>: {slack.get('error', 'queued')} — retrying, it is on the timeline")
    skipped = "".join(f"\nCould not resolve {e.target}: {e.code}" for e in result.errors)
    ctx.respond(text=f"Paging ({label}):\n" + "\n".join(lines) + skipped)


def _rotation_line(until: datetime | None, zone: str | None) -> str:
    if until is None or zone is None:
        return ""
    local = until.astimezone(ZoneInfo(zone))
    return f" until {local:%a %d %b %H:%M} {zone}"


def oncall_text(policy: Policy, ladder_name: str, now: datetime, groups: GroupCache) -> str:
    ladder = escalation.ladder(policy, ladder_name)
    lines = [f"*Who would be paged right now* — `{ladder_name}` escalation policy, repeat {ladder.repeat}:"]
    previous = None
    for line in escalation.on_call_now(policy, ladder, now, groups):
        if line.tier != previous:
            when = "first" if previous is None else f"if {previous} has not acknowledged"
            lines.append(f"*{line.tier}* — paged {when}; waits {line.timeout}")
            previous = line.tier
        if not line.target:
            lines.append("  • nobody: this tier has no targets in the policy")
            continue
        shown = f"<!subteam^{line.target}>" if line.kind == "group" else line.target
        if line.kind == "user":
            lines.append(f"  • <@{line.target}>")
        elif line.error:
            lines.append(f"  • {shown}: could not resolve ({line.error})")
        else:
            people = ", ".join(f"<@{u}>" for u in line.users) or "nobody"
            lines.append(f"  • {shown} → {people}{_rotation_line(line.until, line.timezone)}")
    text = "\n".join(lines)
    return text if len(text) <= 2900 else text[:2899] + "…"


@subcommand(
    "oncall",
    "oncall [p0|p1|p2|p3]",
    "Who each escalation tier would page right now (rotations and groups resolved).",
    in_incident=False,
)
def oncall(ctx: CommandContext) -> None:
    runtime = ctx.runtime
    now = runtime.clock.now()
    arg = ctx.args.lower().split()[0] if ctx.args else ""
    if arg and arg not in SEVERITY_KEYS:
        raise IncidentError("`/incident oncall` or `/incident oncall p0` (p0, p1, p2 or p3).")
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
    ctx.respond(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
