"""Opening the war room as durable work: steps are rows, run at once, finished by any process's tick.

The declaration's transaction writes one `setup_steps` row per step (room, invite, summary,
checklist, announce) next to the incident and its escalation state, so nothing a crash, a
SIGTERM or a Slack outage interrupts is lost: the declaring process runs the steps at once (no
tick delay on the happy path), and otherwise the tick of any replica finishes them, retrying with
backoff capped at 30 s. Steps are claimed FOR UPDATE SKIP LOCKED under a lease the claiming
process renews every tick; a process that dies simply stops renewing.

A channel Slack made although our call failed (a timeout, a reset, a crash before the write) is
adopted on the retry's `name_taken`: only a name this step itself tried, made by our bot user,
after the incident was declared, counts as ours. So there is one room per incident and no orphan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.config.policy import Policy
from bot.db.guard import database_fault
from bot.db.locks import write_lock
from bot.incidents import service
from bot.incidents.models import Incident, SetupStep
from bot.incidents.setup_notices import tell
from bot.incidents.setup_steps import PERMANENT, ROOM, STEPS, VERBS, Claim
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, said
from bot.ports import ChatError
from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
HANDOFF = timedelta(seconds=5)  # a declaration's steps are left to the declaring process this long
LEASE = timedelta(seconds=15)  # renewed every tick by the holder; a dead holder's claims free up after it
MAX_BACKOFF = 30.0
# Incidents one process's tick sets up at once (declarations run theirs at once regardless): a
# backlog (an outage, a reconciliation after an upgrade) drains steadily without starving the
# escalation tick of database connections.
TICK_RUNS = 4
# Slack calls of one incident's steps run side by side; a pool apart from the runtime's, so a
# burst of declarations waiting on their steps can never starve the steps themselves.
_calls = ThreadPoolExecutor(max_workers=32, thread_name_prefix="warroom-setup")
# incident ids a run is in flight for, per runtime (worker id): the tick does not start a second.
_inflight: dict[str, set[int]] = {}


# ------------------------------------------------------------------------------------ writing rows
def steps_for(policy: Policy) -> list[str]:
    return [ROOM, "invite", "summary", "checklist", *(["announce"] if policy.announce_channel else [])]


def plan(session: Session, incident_id: int, steps: list[str], due: datetime) -> None:
    """Write set-up rows (in the caller's transaction); a step that has a row already is kept.

    `due`: when a tick may take them. The declaring process runs its rows at once whatever `due`
    says, so it passes now + HANDOFF: ticks (its own, other replicas') leave them to it unless it
    died.
    """
    if not steps:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = [
        dict(incident_id=incident_id, step=s, status="pending", attempts=0, next_attempt_at=due, data={})
        for s in steps
    ]
    statement = module.insert(SetupStep.__table__).on_conflict_do_nothing(
        index_elements=["incident_id", "step"]
    )
    session.execute(statement, values)


def mark_stale(session: Session, incident_id: int, now: datetime) -> None:
    """A change to show on a summary not recorded yet: its step (re)shows the incident as it is.

    Called with the incident row locked, so it is ordered against the step's `_record`: either the
    caller sees the recorded ts (and updates the message itself) or `_record` sees this flag.
    """
    plan(session, incident_id, ["summary"], now)
    session.execute(
        update(SetupStep)
        .where(SetupStep.incident_id == incident_id, SetupStep.step == "summary")
        .values(data={"stale": True})
    )


def _due(now: datetime) -> Any:
    return or_(
        and_(SetupStep.status == "pending", SetupStep.next_attempt_at <= now),
        and_(SetupStep.status == "running", SetupStep.claimed_at < now - LEASE),
    )


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF, 2.0 ** max(0, attempt - 1)))


# ------------------------------------------------------------------------------------- claim / run
def _claim(runtime: Runtime, incident_id: int, eager: bool) -> list[Claim]:
    with runtime.session() as session:
        write_lock(session)
        incident = session.get(Incident, incident_id, populate_existing=True)
        assert incident is not None
        return _claim_in(session, runtime, incident, runtime.clock.now(), eager)


def _claim_in(
    session: Session, runtime: Runtime, incident: Incident, now: datetime, eager: bool
) -> list[Claim]:
    """Claim the incident's due steps in this transaction (only the room while there is none).

    `eager`: the declaring process, which takes its never-tried steps before they fall due.
    """
    if runtime.stopping.is_set():
        return []  # draining: leave unclaimed work for another replica or the restart
    due = _due(now)
    if eager:
        due = or_(due, and_(SetupStep.status == "pending", SetupStep.attempts == 0))
    rows = session.scalars(
        select(SetupStep)
        .where(SetupStep.incident_id == incident.id, due)
        .order_by(SetupStep.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    if incident.channel_id is None:
        rows = [r for r in rows if r.step == ROOM]  # the others need the room
    claims = []
    for row in rows:
        row.status, row.claimed_at, row.claimed_by = "running", now, runtime.worker_id
        row.attempts += 1
        if row.step == "summary" and row.data:
            row.data = {}  # this attempt posts (or updates to) the incident as it is from here on
        if row.step == ROOM and not (row.data or {}).get("names"):
            # Written before Slack is called: only a name this step tried may later be adopted.
            first = service.channel_name(
                incident.id, incident.declared_at, _named(incident), 0, incident.is_drill
            )
            row.data = {"names": [first]}
        claims.append(
            Claim(
                row.step,
                row.attempts,
                dict(row.data or {}),
                _named(incident),
                incident.declared_at,
                incident.is_drill,
                bool(incident.private),
            )
        )
    return claims


def _named(incident: Incident) -> str:
    """What the room is named after: a private incident's title stays out of its channel name."""
    return "" if incident.private else incident.title


def run_incident(runtime: Runtime, incident_id: int, declaring: bool = False) -> None:
    """Run every due step of one incident: the room first, then the rest side by side. Never raises.

    `declaring`: the declaring process's own run, at once. It leaves telling the declarer to the
    declare answer (and to the tick, for what lands after it).
    """
    with runtime.busy():
        try:
            claims = _claim(runtime, incident_id, eager=declaring)
            room = next((c for c in claims if c.step == ROOM), None)
            if room is not None:  # recording the room claims what needs it, in one transaction
                claims = _run_step(runtime, incident_id, room, then_claim=True, eager=declaring)
            wait([_submit(_run_step, runtime, incident_id, claim) for claim in claims])
            if not declaring:
                tell(runtime, incident_id)
        except Exception as exc:  # the rows are still there: the tick tries again
            fault = database_fault(exc)
            if fault is None:
                log.exception("set-up run failed", extra={"incident_id": incident_id})
            else:  # busy or not answering: expected under faults, and the tick retries; no traceback
                log.warning(
                    "set-up run deferred: database %s", fault.value, extra={"incident_id": incident_id}
                )


def _submit(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return _calls.submit(fn, *args)
    except RuntimeError:  # interpreter shutting down: do it here
        from concurrent.futures import Future

        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future


def _run_step(
    runtime: Runtime, incident_id: int, claim: Claim, then_claim: bool = False, eager: bool = False
) -> list[Claim]:
    result: dict[str, Any] = {}  # filled as the step goes, so a half-done step keeps what it made
    try:
        STEPS[claim.step](runtime, incident_id, claim, result)
        outcome, error = "done", None
    except ChatError as exc:
        outcome, error = ("failed" if exc.code in PERMANENT else "retry"), exc.code
    except Exception as exc:  # a port broken in an unexpected way: retried like a 5xx
        log.warning("set-up step %s raised", claim.step, exc_info=True, extra={"incident_id": incident_id})
        outcome, error = "retry", type(exc).__name__
    if error:
        log.warning(
            "set-up step %s failed: %s (%s)", claim.step, error, outcome, extra={"incident_id": incident_id}
        )
    return _record(runtime, incident_id, claim, outcome, error, result, then_claim, eager)


def _record(
    runtime: Runtime,
    incident_id: int,
    claim: Claim,
    outcome: str,
    error: str | None,
    result: dict[str, Any],
    then_claim: bool,
    eager: bool,
) -> list[Claim]:
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)
        incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
        assert incident is not None
        if result.get("channel_id") and incident.channel_id is None:
            incident.channel_id, incident.channel_name = result["channel_id"], result["channel_name"]
        for column in ("summary_ts", "checklist_ts"):
            if result.get(column) and getattr(incident, column) is None:
                setattr(incident, column, result[column])
        row = session.scalar(
            select(SetupStep)
            .where(
                SetupStep.incident_id == incident_id,
                SetupStep.step == claim.step,
                SetupStep.status == "running",
                SetupStep.claimed_by == runtime.worker_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            return []  # handed back at shutdown, or taken over after our lease: the new holder records
        row.claimed_at = row.claimed_by = None
        row.error = error
        if outcome == "done" and (row.data or {}).get("stale"):
            # Changed after the step read it, before its ts was recorded: once more, to update it.
            row.data, row.status, row.next_attempt_at = {}, "pending", now
            return []
        if outcome == "done":
            row.status, row.done_at = "done", now
            return _claim_in(session, runtime, incident, now, eager) if then_claim else []
        if outcome == "retry":
            row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)
            return []
        row.status = "failed"
        # Stored in English with what renders it again: the declarer's answer and the timeline
        # show it in the reader's language (setup_steps.problem_text, timeline.event_text).
        problem, spoken = said(VERBS[claim.step], error=error)
        _problem(session, incident, claim.step, problem, now, spoken)
        if claim.step == ROOM:  # nothing that needs the room can happen now
            session.execute(
                update(SetupStep)
                .where(SetupStep.incident_id == incident_id, SetupStep.status == "pending")
                .values(status="failed", error="no_channel")
            )
        return []


def _problem(
    session: Session, incident: Incident, step: str, text: str, now: datetime, spoken: dict[str, Any]
) -> None:
    incident.setup_errors = [*(incident.setup_errors or []), text]
    add_event(
        session,
        incident.id,
        EventKind.SETUP_ERROR,
        BOT_ACTOR,
        text,
        data=spoken,
        dedupe_key=f"setup:{step}",
        at=now,
    )


# ---------------------------------------------------------------------------------------------- tick
def tick(runtime: Runtime) -> int:
    """Renew our leases, then start a run for every incident with due steps or a notice owed."""
    if runtime.stopping.is_set():
        return 0
    now = runtime.clock.now()
    with runtime.session() as session:
        session.execute(
            update(SetupStep)
            .where(SetupStep.claimed_by == runtime.worker_id, SetupStep.status == "running")
            .values(claimed_at=now)
        )
        due = set(session.scalars(select(SetupStep.incident_id).where(_due(now)).distinct().limit(50)))
        still_open = select(SetupStep.id).where(
            SetupStep.incident_id == Incident.id, SetupStep.status.in_(("pending", "running"))
        )
        due |= set(
            session.scalars(
                select(Incident.id).where(Incident.setup_notice == "late", ~still_open.exists()).limit(50)
            )
        )
    inflight = _inflight.setdefault(runtime.worker_id, set())
    started = 0
    for incident_id in sorted(due - inflight):
        if len(inflight) >= TICK_RUNS:
            break  # the rest next tick: repairs must not take the connections pages need
        inflight.add(incident_id)
        started += 1

        def run(incident_id: int = incident_id) -> None:
            try:
                run_incident(runtime, incident_id)
            finally:
                inflight.discard(incident_id)

        runtime.submit(run)
    return started


def release(runtime: Runtime) -> int:
    """Hand back every claim of this process (at shutdown), for another replica or the restart."""
    with runtime.session() as session:
        done = session.execute(
            update(SetupStep)
            .where(SetupStep.claimed_by == runtime.worker_id, SetupStep.status == "running")
            .values(status="pending", claimed_by=None, claimed_at=None, next_attempt_at=runtime.clock.now())
        )
        return int(done.rowcount or 0)


def drain(runtime: Runtime, grace: float) -> None:
    """SIGTERM: claim nothing new, let set-up in flight finish within `grace`, hand back the rest."""
    idle = runtime.drain(grace)
    released = release(runtime)
    log.info("drained set-up (%s); released %d claims", "idle" if idle else "grace over", released)
