"""Ladder steps: due `escalation_state` rows move to their next rung (outbox rows) or are exhausted.

Targets are resolved lock-free first (Slack may be slow); the step is then applied under
FOR NO KEY UPDATE SKIP LOCKED only if the ladder has not moved meanwhile.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from bot.config.policy import EscalationPolicy
from bot.db.locks import write_lock
from bot.escalation import messages, passes, service
from bot.escalation.models import EscalationState
from bot.escalation.outbox import insert_events, insert_rows
from bot.escalation.passes import PassReport, event, light_view, notice_row
from bot.escalation.targets import GroupCache, Resolved, resolve
from bot.i18n import N_
from bot.incidents.models import Incident
from bot.incidents.timeline import EventKind, said

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

GROUP_RETRY_FOR = timedelta(seconds=60)  # keep retrying a failing user group this long
GROUP_BACKOFF = 2.0  # seconds between two lookups of a failing group for one rung
# (incident, tier, loop) -> time.monotonic() before which a rung waiting on a group is not retried.
# Process-local on purpose: another replica retrying too is harmless, the outbox keys stay unique.
_group_backoff: dict[tuple[int, int, int], float] = {}


@dataclass
class Step:
    incident_id: int
    tier: int  # the state as peeked; the step applies only if still so under the lock
    loop: int
    due: datetime
    ladder: EscalationPolicy
    next_tier: int | None = None  # None: exhausted
    next_loop: int = 0
    resolved: Resolved | None = None
    retry: bool = False  # a group lookup failed and is worth another try


def plan(state_tier: int, state_loop: int, ladder: EscalationPolicy) -> tuple[int | None, int]:
    tier, loop = state_tier + 1, state_loop
    if tier >= len(ladder.tiers):
        tier, loop = 0, loop + 1
    if loop > ladder.repeat:
        return None, loop
    return tier, loop


def advance_ladders(runtime: Runtime) -> PassReport:
    """Step every due ladder (writes outbox rows; sends nothing)."""
    report = PassReport()
    groups, seen = GroupCache(runtime.pager), set[int]()
    while True:
        done, more = advance_batch(runtime, groups, seen)
        report += done
        if not more:
            return report


def advance_batch(runtime: Runtime, groups: GroupCache, seen: set[int]) -> tuple[PassReport, bool]:
    """One batch of due ladders; `more` is False once this pass has seen every due ladder."""
    now = runtime.clock.now()
    started = time.monotonic()
    steps, more = peek_steps(runtime, now, groups, seen)
    if not steps:
        return PassReport(), more
    peeked = time.monotonic()
    report = apply_steps(runtime, steps, now)
    log.debug(
        "stepped %d ladders (peek %.0f ms, apply %.0f ms)",
        report.advanced + report.exhausted,
        (peeked - started) * 1000,
        (time.monotonic() - peeked) * 1000,
    )
    return report, True


def peek_steps(
    runtime: Runtime, now: datetime, groups: GroupCache, seen: set[int]
) -> tuple[list[Step], bool]:
    """Read due ladders without locks and resolve their targets (Slack calls happen here, lock-free).

    Ladders this pass has already looked at are left out, so when a replica holds the first batch
    this process moves on to the next one instead of waiting behind it.
    """
    query = (
        select(EscalationState, Incident)
        .join(Incident, Incident.id == EscalationState.incident_id)
        .where(EscalationState.active.is_(True), EscalationState.next_at <= now)
        .order_by(EscalationState.next_at)
        .limit(passes.BATCH)
        # Read only where its key is not cached yet (service.snapshot_policy): one per YAML, not per row.
        .options(defer(Incident.policy_snapshot))
    )
    if seen:
        query = query.where(EscalationState.incident_id.not_in(seen))
    with runtime.session() as session:
        rows = session.execute(query).all()
        policies = {incident.id: service.snapshot_policy(incident) for _, incident in rows}
    steps = []
    for state, incident in rows:
        key = (state.incident_id, state.tier, state.loop)
        seen.add(state.incident_id)
        if _group_backoff.get(key, 0.0) > time.monotonic():
            continue
        assert state.next_at is not None
        policy = policies[incident.id]
        ladder = service.ladder(policy, state.policy)
        step = Step(incident.id, state.tier, state.loop, state.next_at, ladder)
        step.next_tier, step.next_loop = plan(state.tier, state.loop, ladder)
        if step.next_tier is not None:
            step.resolved = resolve(ladder.tiers[step.next_tier].targets, policy, state.next_at, groups)
            step.retry = (
                any(not e.permanent for e in step.resolved.errors) and now - step.due < GROUP_RETRY_FOR
            )
        if step.retry:
            # Not again before a short backoff: a Slack outage must not turn into a lookup storm.
            _group_backoff[key] = time.monotonic() + GROUP_BACKOFF
        else:
            _group_backoff.pop(key, None)
            steps.append(step)
    return steps, bool(rows)


def apply_steps(runtime: Runtime, steps: list[Step], now: datetime) -> PassReport:
    report = PassReport()
    by_id = {s.incident_id: s for s in steps}
    with runtime.session() as session:
        write_lock(session)
        locked = session.execute(
            select(EscalationState, Incident)
            .join(Incident, Incident.id == EscalationState.incident_id)
            .where(
                EscalationState.incident_id.in_(sorted(by_id)),
                EscalationState.active.is_(True),
                EscalationState.next_at <= now,
            )
            .order_by(EscalationState.incident_id)
            # NO KEY UPDATE: excludes acks and other ticks, but not FK checks of unrelated inserts.
            .with_for_update(skip_locked=True, key_share=True, of=[EscalationState, Incident])
            .options(defer(Incident.policy_snapshot))
            .execution_options(populate_existing=True)
        ).all()
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for state, incident in locked:
            step = by_id[state.incident_id]
            if (state.tier, state.loop) != (step.tier, step.loop):
                continue  # another process moved it between our peek and our lock
            if incident.status != "declared":  # acknowledged in a way that did not stop the ladder
                state.active, state.stopped_reason, state.next_at = False, incident.status, None
                continue
            if step.next_tier is None:
                exhaust(state, incident, step, now, rows, events)
                report.exhausted += 1
            else:
                page_rung(state, incident, step, now, rows, events)
                report.advanced += 1
        # One statement each for the whole batch; the unique keys keep replays harmless.
        insert_rows(session, rows)
        insert_events(session, events)
    return report


def page_rung(
    state: EscalationState,
    incident: Incident,
    step: Step,
    now: datetime,
    rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    assert step.next_tier is not None and step.resolved is not None
    tier = step.ladder.tiers[step.next_tier]
    users = step.resolved.users
    rows.extend(
        dict(
            incident_id=incident.id,
            loop=step.next_loop,
            tier=step.next_tier,
            target=user,
            tier_name=tier.name,
            due_at=step.due,
            next_attempt_at=step.due,
        )
        for user in users
    )
    data = {
        "tier": tier.name,
        "tier_index": step.next_tier,
        "loop": step.next_loop,
        "users": users,
        "due_at": step.due.isoformat(),
    }
    text, spec = messages.escalation_said(
        step.ladder, step.next_tier, step.next_loop, users, bool(tier.targets)
    )
    events.append(
        event(
            incident.id,
            EventKind.ESCALATION,
            text,
            {**data, **spec},
            f"escalation:{step.next_loop}:{step.next_tier}",
            now,
        )
    )
    for error in step.resolved.errors:
        failed, spec = said(
            N_("Could not resolve {target} for {tier}: {code}"),
            target=error.target,
            tier=tier.name,
            code=error.code,
        )
        events.append(
            event(
                incident.id,
                EventKind.PAGE_FAILED,
                failed,
                {
                    "target": error.target,
                    "error": error.code,
                    "tier": tier.name,
                    "loop": step.next_loop,
                    **spec,
                },
                f"resolve:{step.next_loop}:{step.next_tier}:{error.target}",
                now,
            )
        )
    state.tier, state.loop = step.next_tier, step.next_loop
    # Counted from when this tier was actually paged: after an outage, tier 2 still gets its full
    # timeout instead of every later tier being paged at once.
    state.next_at = max(step.due, now) + tier.timeout
    state.updated_at = now


def exhaust(
    state: EscalationState,
    incident: Incident,
    step: Step,
    now: datetime,
    rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    state.active = False
    state.stopped_reason = "exhausted"
    state.next_at = None
    state.updated_at = now
    policy = service.snapshot_policy(incident)
    exhausted, spec = said(N_("Escalation exhausted: nobody acknowledged after every tier was paged"))
    events.append(
        event(
            incident.id,
            EventKind.ESCALATION,
            exhausted,
            {"exhausted": True, "loops": step.ladder.repeat + 1, **spec},
            "escalation:exhausted",
            now,
        )
    )
    text = messages.exhausted_text(light_view(incident, policy), step.ladder)
    rows.append(notice_row(incident.id, "notice:exhausted", text, now, now))
