"""Response figures of an incident: milestones, durations and met/missed against the response target.

Pure functions over the incident's columns and its timeline, so edge cases are easy to test.
The timeline is the source of truth where the row cannot be: `reopen` clears `resolved_at`,
and marks an incident that was never acknowledged as acknowledged at the reopen (so that
escalation stops), which must not count as a quick acknowledgement in the postmortem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ZERO = timedelta(0)


class Verdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"  # not reached yet, and the target has not passed yet
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Moment:
    """One lifecycle event as the metrics need it: when, what, who."""

    at: datetime
    kind: str
    actor: str = ""


@dataclass(frozen=True)
class Milestones:
    declared: datetime
    acknowledged: datetime | None
    acknowledged_by: str | None
    mitigated: datetime | None
    mitigated_by: str | None
    first_resolved: datetime | None
    resolved: datetime | None  # the final resolve; None while the incident is open
    resolved_by: str | None
    reopened: int


@dataclass(frozen=True)
class Metric:
    name: str  # acknowledge | mitigate | resolve
    elapsed: timedelta | None  # from declare; None when it has not happened
    target: timedelta
    verdict: Verdict
    # Why a figure is what it is, for the reader: "at_resolve" (never marked mitigated, so impact
    # ended at the resolve), "resolved_unacknowledged", "open" (still running at draft time).
    note: str | None = None


@dataclass(frozen=True)
class Metrics:
    milestones: Milestones
    target: timedelta
    time_to_acknowledge: Metric
    time_to_mitigate: Metric
    time_to_resolve: Metric
    duration: timedelta  # declare → final resolve, or → now while open
    open_time: timedelta  # the same, minus the time spent resolved before a reopen
    is_open: bool

    @property
    def all(self) -> tuple[Metric, Metric, Metric]:
        return (self.time_to_acknowledge, self.time_to_mitigate, self.time_to_resolve)


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    if end is None:
        return None
    return max(end - start, ZERO)  # clock skew between replicas must not print "-3s"


def judge(elapsed: timedelta | None, target: timedelta, *, waited: timedelta, is_open: bool) -> Verdict:
    """met/missed when it happened; without it: missed once the target passed, else pending (or n/a)."""
    if elapsed is not None:
        return Verdict.MET if elapsed <= target else Verdict.MISSED
    if waited > target:
        return Verdict.MISSED
    return Verdict.PENDING if is_open else Verdict.NOT_APPLICABLE


def milestones(
    *,
    declared_at: datetime,
    status: str,
    acknowledged_at: datetime | None,
    acknowledged_by: str | None,
    mitigated_at: datetime | None,
    resolved_at: datetime | None,
    moments: Iterable[Moment],
) -> Milestones:
    firsts: dict[str, Moment] = {}
    lasts: dict[str, Moment] = {}
    reopen_times: set[datetime] = set()
    reopened = 0
    for moment in sorted(moments, key=lambda m: m.at):
        firsts.setdefault(moment.kind, moment)
        lasts[moment.kind] = moment
        if moment.kind == "reopened":
            reopened += 1
            reopen_times.add(moment.at)
    # Acknowledged: an explicit ack, or a mitigation (the service counts it as one).
    acks = [m for m in (firsts.get("acknowledged"), firsts.get("mitigated")) if m is not None]
    ack = min(acks, key=lambda m: m.at) if acks else None
    ack_at, ack_by = (ack.at, ack.actor) if ack else (None, None)
    if ack is None and acknowledged_at is not None and acknowledged_at not in reopen_times:
        ack_at, ack_by = acknowledged_at, acknowledged_by  # a row written without its event
    mitigated = firsts.get("mitigated")
    resolved = status == "resolved"
    final = lasts.get("resolved")
    final_at = (resolved_at or (final.at if final else None)) if resolved else None
    return Milestones(
        declared=declared_at,
        acknowledged=ack_at,
        acknowledged_by=ack_by,
        mitigated=mitigated.at if mitigated else mitigated_at,
        mitigated_by=mitigated.actor if mitigated else None,
        first_resolved=firsts["resolved"].at if "resolved" in firsts else final_at,
        resolved=final_at,
        resolved_by=final.actor if (resolved and final) else None,
        reopened=reopened,
    )


def open_time(declared: datetime, moments: Iterable[Moment], end: datetime) -> timedelta:
    """Time spent open: declare → resolve, plus each reopen → next resolve (or → end)."""
    total, since = ZERO, declared
    for moment in sorted(moments, key=lambda m: m.at):
        if moment.kind == "resolved" and since is not None:
            total += max(moment.at - since, ZERO)
            since = None
        elif moment.kind == "reopened" and since is None:
            since = moment.at
    if since is not None:
        total += max(end - since, ZERO)
    return total


def compute(
    *,
    declared_at: datetime,
    status: str,
    acknowledged_at: datetime | None,
    acknowledged_by: str | None,
    mitigated_at: datetime | None,
    resolved_at: datetime | None,
    target: timedelta,
    moments: Iterable[Moment],
    now: datetime,
) -> Metrics:
    """All figures of the postmortem's metrics table, as of `now` (the draft time)."""
    moments = [m for m in moments if m.kind in ("acknowledged", "mitigated", "resolved", "reopened")]
    ms = milestones(
        declared_at=declared_at,
        status=status,
        acknowledged_at=acknowledged_at,
        acknowledged_by=acknowledged_by,
        mitigated_at=mitigated_at,
        resolved_at=resolved_at,
        moments=moments,
    )
    is_open = ms.resolved is None
    end = ms.resolved or now
    waited = max(end - declared_at, ZERO)

    tta = _since(declared_at, ms.acknowledged)
    ack_note = None
    if tta is None and ms.first_resolved is not None:
        # Resolved without anyone acknowledging: nobody answered the pages, so this is never ✅ —
        # missed when the target passed before the resolve, otherwise not applicable (shown as —).
        ack_note = "resolved_unacknowledged"
        resolved_after = _since(declared_at, ms.first_resolved) or ZERO
        ack_verdict = Verdict.MISSED if resolved_after > target else Verdict.NOT_APPLICABLE
    else:
        ack_verdict = judge(tta, target, waited=waited, is_open=is_open)

    ttm = _since(declared_at, ms.mitigated)
    mit_note = None
    if ttm is None and ms.first_resolved is not None:
        ttm, mit_note = _since(declared_at, ms.first_resolved), "at_resolve"  # impact ended at the resolve

    ttr = _since(declared_at, ms.resolved)
    return Metrics(
        milestones=ms,
        target=target,
        time_to_acknowledge=Metric("acknowledge", tta, target, ack_verdict, ack_note),
        time_to_mitigate=Metric(
            "mitigate", ttm, target, judge(ttm, target, waited=waited, is_open=is_open), mit_note
        ),
        time_to_resolve=Metric(
            "resolve",
            ttr,
            target,
            judge(ttr, target, waited=waited, is_open=is_open),
            "open" if is_open else None,
        ),
        duration=waited,
        open_time=open_time(declared_at, moments, end),
        is_open=is_open,
    )
