"""The drill report: each response step against its budget, each tier against its timeout, who
acknowledged when, what was missed.

Read from the incident row and its timeline only (escalation, page and failure events), so the
report shows what really happened during the drill — not what the policy says should have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.durations import format_duration
from bot.config.policy import Policy
from bot.escalation.models import EscalationState
from bot.escalation.service import ladder, snapshot_policy
from bot.i18n import _
from bot.incidents import service as incidents
from bot.incidents.models import Incident, TimelineEvent
from bot.incidents.timeline import EventKind
from bot.incidents.views import IncidentView
from bot.postmortem.content import StepRow, step_rows
from bot.response.steps import NAMES as STEP_NAMES


@dataclass(frozen=True)
class Rung:
    """One tier paged during the drill and how it did against its timeout."""

    tier: str
    loop: int
    paged_at: datetime
    users: tuple[str, ...]
    timeout: timedelta
    acked_after: timedelta | None  # set when the ack came while this rung was the one waiting
    escalated: bool  # the timeout ran out and the next rung (or exhaustion) followed


@dataclass
class DrillReport:
    incident: IncidentView
    rungs: list[Rung] = field(default_factory=list)
    unpaged: list[str] = field(default_factory=list)  # tiers the ladder never reached
    failed_pages: list[str] = field(default_factory=list)  # texts of failed deliveries
    exhausted: bool = False
    response_target: timedelta = timedelta(0)
    steps: tuple[StepRow, ...] = ()  # the response steps against their budgets, as of the resolve


def build(session: Session, incident: Incident, policy: Policy | None = None) -> DrillReport:
    """The figures of the report for `incident` (any incident; drills are the ones that get it posted)."""
    snapshot = snapshot_policy(incident) if incident.policy_snapshot else (policy or Policy())
    state = session.get(EscalationState, incident.id)
    steps = ladder(snapshot, state.policy if state else "default")
    events = list(
        session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.incident_id == incident.id,
                TimelineEvent.kind.in_([EventKind.ESCALATION.value, EventKind.PAGE_FAILED.value]),
            )
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )
    view = incidents.view(session, incident, snapshot)
    report = DrillReport(view, response_target=snapshot.severity(incident.severity).response)
    # The step clock's own verdicts (the postmortem's table), as they stood when the drill ended.
    report.steps = step_rows(view, incident.resolved_at or incident.updated_at)
    paged = [e for e in events if e.kind == EventKind.ESCALATION.value and "tier_index" in (e.data or {})]
    report.exhausted = any((e.data or {}).get("exhausted") for e in events)
    ack = incident.acknowledged_at
    for position, event in enumerate(paged):
        data = event.data
        index = int(data["tier_index"])
        timeout = steps.tiers[index].timeout if index < len(steps.tiers) else timedelta(0)
        later = position + 1 < len(paged)
        acked_after = None
        if ack is not None and ack >= event.at and (not later or ack < paged[position + 1].at):
            acked_after = ack - event.at
        report.rungs.append(
            Rung(
                tier=str(data.get("tier", "")),
                loop=int(data.get("loop", 0)),
                paged_at=event.at,
                users=tuple(data.get("users") or ()),
                timeout=timeout,
                acked_after=acked_after,
                escalated=later or report.exhausted,
            )
        )
    reached = {int(e.data["tier_index"]) for e in paged}
    report.unpaged = [t.name for i, t in enumerate(steps.tiers) if i not in reached]
    report.failed_pages = [e.text for e in events if e.kind == EventKind.PAGE_FAILED.value]
    return report


def _after(delta: timedelta) -> str:
    return format_duration(timedelta(seconds=int(delta.total_seconds())))


def _users(users: tuple[str, ...]) -> str:
    return ", ".join(f"<@{u}>" for u in users) if users else _("nobody")


def missed(report: DrillReport) -> list[str]:
    """What the drill missed, one line each (empty: nothing was missed)."""
    lines = []
    for rung in report.rungs:
        if rung.escalated and rung.acked_after is None:
            lines.append(
                _(
                    "{tier} did not acknowledge within {timeout}.",
                    tier=rung.tier,
                    timeout=format_duration(rung.timeout),
                )
            )
        if not rung.users:
            lines.append(_("{tier} paged nobody.", tier=rung.tier))
    for row in report.steps:
        if row.verdict == "missed" and row.over is not None:
            lines.append(
                _(
                    "{step} ran {over} over its budget of {budget}.",
                    step=_(STEP_NAMES.get(row.step, row.step)),
                    over=_after(row.over),
                    budget=format_duration(row.budget or timedelta(0)),
                )
            )
    incident = report.incident
    acked = incident.acknowledged_at
    if acked is None or acked - incident.declared_at > report.response_target:
        lines.append(
            _("The response target ({target}) was missed.", target=format_duration(report.response_target))
        )
    if report.exhausted:
        lines.append(_("Escalation was exhausted: every tier was paged and nobody acknowledged."))
    lines += [_("A page failed: {what}", what=text) for text in report.failed_pages]
    return lines


def render(report: DrillReport) -> str:
    """The report as Slack mrkdwn, in the language in force."""
    incident = report.incident
    start = incident.declared_at
    lines = [
        _(
            ":clipboard: *Drill report — {handle} {sev}: {title}*",
            handle=incident.handle,
            sev=incident.severity_tag,
            title=incident.title,
        ),
        "",
        _("*Tiers* (each against its timeout)"),
    ]
    for rung in report.rungs:
        offset = _after(rung.paged_at - start)
        if rung.acked_after is not None:
            verdict = (
                _(
                    "✅ acknowledged after {after} (budget {timeout})",
                    after=_after(rung.acked_after),
                    timeout=format_duration(rung.timeout),
                )
                if rung.acked_after <= rung.timeout
                else _(
                    "❌ acknowledged after {after}, over its budget of {timeout}",
                    after=_after(rung.acked_after),
                    timeout=format_duration(rung.timeout),
                )
            )
        elif rung.escalated:
            verdict = _("❌ no acknowledgement within {timeout}", timeout=format_duration(rung.timeout))
        else:
            verdict = _(
                "⏹ still waiting when the drill ended (budget {timeout})",
                timeout=format_duration(rung.timeout),
            )
        lines.append(
            _(
                "• {tier} (loop {loop}) paged at +{offset}: {users} — {verdict}",
                tier=rung.tier,
                loop=rung.loop + 1,
                offset=offset,
                users=_users(rung.users),
                verdict=verdict,
            )
        )
    if not report.rungs:
        lines.append(_("• no tier was paged"))
    for name in report.unpaged:
        lines.append(_("• {tier}: not reached", tier=name))
    lines += ["", _("*Steps* (each against its budget from the declaration)")]
    lines += [_step_line(row) for row in report.steps] or [_("• the response clock has no steps")]
    lines += ["", _("*Who did what, when*")]
    if incident.acknowledged_at is not None:
        lines.append(
            _(
                "• acknowledged by <@{who}> at +{after} (response target {target})",
                who=incident.acknowledged_by or "?",
                after=_after(incident.acknowledged_at - start),
                target=format_duration(report.response_target),
            )
        )
    else:
        lines.append(_("• nobody acknowledged"))
    if incident.mitigated_at is not None:
        lines.append(_("• mitigated at +{after}", after=_after(incident.mitigated_at - start)))
    if incident.resolved_at is not None:
        lines.append(_("• resolved at +{after}", after=_after(incident.resolved_at - start)))
    lines += ["", _("*Missed*")]
    lines += [f"• {line}" for line in missed(report)] or [_("• nothing — every tier and target was met")]
    lines += ["", _("_A drill: none of this counts in metrics, reports or response-target figures._")]
    return "\n".join(lines)


def _step_line(row: StepRow) -> str:
    name = _(STEP_NAMES.get(row.step, row.step))
    if row.budget is None:
        done = _("done at +{took}", took=_after(row.took)) if row.took is not None else _("open")
        return _("• {step} (no clock): {done}", step=name, done=done)
    budget = format_duration(row.budget)
    if row.verdict == "met":
        return _(
            "• {step} (budget {budget}): ✅ done at +{took}",
            step=name,
            budget=budget,
            took=_after(row.took or timedelta(0)),
        )
    if row.verdict == "missed" and row.took is not None:
        return _(
            "• {step} (budget {budget}): ❌ done at +{took}, {over} over",
            step=name,
            budget=budget,
            took=_after(row.took),
            over=_after(row.over or timedelta(0)),
        )
    if row.verdict == "missed":
        return _(
            "• {step} (budget {budget}): ❌ still open when the drill ended, {over} over",
            step=name,
            budget=budget,
            over=_after(row.over or timedelta(0)),
        )
    return _("• {step} (budget {budget}): ⏳ open, within its budget", step=name, budget=budget)
