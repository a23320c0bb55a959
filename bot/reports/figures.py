"""The report's figures, read from the database: counts, response times and what was missed."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.policy import SEVERITY_KEYS, Policy
from bot.i18n import _
from bot.incidents.models import Incident
from bot.postmortem.models import ActionItem, ReviewReminder

STEPS = ("acknowledge", "mitigate", "resolve")


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-quantile by nearest rank: the ceil(q·n)-th smallest value (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass(frozen=True)
class StepFigures:
    count: int  # incidents that reached the step
    median: float | None  # seconds
    p90: float | None


@dataclass(frozen=True)
class SeverityFigures:
    severity: str
    label: str
    incidents: int
    target: timedelta  # the response (acknowledge) target
    steps: dict[str, StepFigures]
    within_target: int  # acknowledged within the target


@dataclass(frozen=True)
class Missed:
    incident_id: int
    severity: str
    title: str
    channel_id: str | None
    target: timedelta
    acknowledged_after: float | None  # seconds; None: never acknowledged


@dataclass(frozen=True)
class OverdueReview:
    incident_id: int
    title: str
    channel_id: str | None
    commander_id: str | None
    due_at: datetime


@dataclass
class Report:
    since: datetime
    until: datetime
    severities: list[SeverityFigures] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)
    overdue_reviews: list[OverdueReview] = field(default_factory=list)
    action_items: dict[str, int] = field(default_factory=dict)  # owner id ("" = nobody) -> open items

    @property
    def total(self) -> int:
        return sum(s.incidents for s in self.severities)


def _title(incident: Incident) -> str:
    """A private incident's title stays in its room (SPEC §13), reports included."""
    return _("restricted incident") if incident.private else incident.title


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def build(session: Session, policy: Policy, since: datetime, until: datetime, now: datetime) -> Report:
    """Figures for incidents declared in [since, until) — drills left out — as of `now`."""
    incidents = list(
        session.scalars(
            select(Incident)
            .where(Incident.is_drill.is_(False), Incident.declared_at >= since, Incident.declared_at < until)
            .order_by(Incident.declared_at, Incident.id)
        )
    )
    report = Report(since, until)
    for severity in SEVERITY_KEYS:
        rows = [i for i in incidents if i.severity == severity]
        target = policy.severity(severity).response
        times: dict[str, list[float]] = {step: [] for step in STEPS}
        within = 0
        for incident in rows:
            ends = (incident.acknowledged_at, incident.mitigated_at, incident.resolved_at)
            for step, end in zip(STEPS, ends, strict=True):
                seconds = _seconds(incident.declared_at, end)
                if seconds is not None:
                    times[step].append(seconds)
            acked = _seconds(incident.declared_at, incident.acknowledged_at)
            if acked is not None and acked <= target.total_seconds():
                within += 1
            elif acked is not None or now - incident.declared_at > target:
                report.missed.append(
                    Missed(incident.id, severity, _title(incident), incident.channel_id, target, acked)
                )
        figures = {
            step: StepFigures(len(values), nearest_rank(values, 0.5), nearest_rank(values, 0.9))
            for step, values in times.items()
        }
        label = policy.severity(severity).label
        report.severities.append(SeverityFigures(severity, label, len(rows), target, figures, within))
    overdue = session.execute(
        select(Incident, ReviewReminder)
        .join(ReviewReminder, ReviewReminder.incident_id == Incident.id)
        .where(
            Incident.is_drill.is_(False),
            ReviewReminder.done_at.is_(None),
            ReviewReminder.due_at < now,
        )
        .order_by(ReviewReminder.due_at, Incident.id)
    ).all()
    report.overdue_reviews = [
        OverdueReview(i.id, _title(i), i.channel_id, i.commander_id, r.due_at) for i, r in overdue
    ]
    owners = session.scalars(
        select(ActionItem.owner_id)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(Incident.is_drill.is_(False), ActionItem.done_at.is_(None))
    )
    report.action_items = dict(sorted(Counter(owner or "" for owner in owners).items()))
    return report
