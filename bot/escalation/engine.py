"""The escalation tick: the database is the timer, this only walks it.

Each process runs `tick(runtime)` from APScheduler every ≤ 1 s. A tick works in passes; each pass:

1. advances ladders — `escalation_state` rows whose `next_at` has come are taken with
   FOR NO KEY UPDATE SKIP LOCKED (together with their incident row), and the next rung is written
   as outbox rows under their unique key (incident, loop, tier, target), or the ladder is marked
   exhausted with a channel notice;
2. notices missed response targets (unacknowledged incidents past `response_due_at`);
3. sends due outbox rows — see `send_due` for the exactly-once argument.

Between passes the tick sleeps until the earliest due time it can see (or a local nudge), so a
page leaves within milliseconds of its due time rather than up to a tick interval late; it returns
before its interval ends so APScheduler can start the next one on time.

Lock order, to stay deadlock-free against ack/resolve (incident FOR UPDATE, then state FOR UPDATE):
the ladder step takes state+incident with SKIP LOCKED (never waits); the claim takes outbox rows
SKIP LOCKED and then waits only on state rows (FOR SHARE, sorted) and inserts nothing that would
need a key-share lock on an incident an ack holds.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, defer

from bot import metrics
from bot.config.durations import format_duration
from bot.config.policy import EscalationPolicy, Policy
from bot.escalation import messages, service
from bot.escalation.models import MANUAL_TIER, NOTICE_TIER, EscalationState, PageOutbox
from bot.escalation.outbox import insert_events, insert_rows
from bot.escalation.targets import GroupCache, Resolved, TargetError, resolve
from bot.escalation.wake import wait as wait_for_nudge
from bot.incidents.models import Incident
from bot.incidents.timeline import BOT_ACTOR, EventKind
from bot.incidents.views import IncidentView
from bot.paging import DeliveryError, aws_target
from bot.paging.email import send_email
from bot.paging.sms import send_sms
from bot.paging.webhook import post_webhook
from bot.ports import ChatError, PageRequest

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 250
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)  # a 'sending' row older than this belongs to a dead process
CHANNEL_WAIT = timedelta(seconds=15)  # a page waits this long for the war room to exist
CHANNEL_POLL = timedelta(milliseconds=250)
GROUP_RETRY_FOR = timedelta(seconds=60)  # keep retrying a failing user group this long
GROUP_BACKOFF = 2.0  # seconds between two lookups of a failing group for one rung
# (incident, tier, loop) -> time.monotonic() before which a rung waiting on a group is not retried.
# Process-local on purpose: another replica retrying too is harmless, the outbox keys stay unique.
_group_backoff: dict[tuple[int, int, int], float] = {}
WORKER = f"{socket.gethostname()}:{os.getpid()}"
# Slack answers that another try will not change: the page fails at once instead of retrying for minutes.
PERMANENT = frozenset(
    {
        "user_not_found",
        "channel_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_auth",
        "not_authed",
        "missing_scope",
        "is_archived",
        "no_channel",
        "cant_invite_self",
        "user_is_restricted",
        "not_in_channel",
        "method_not_supported_for_channel_type",
    }
)
# Slack DMs go out in parallel: one slow call must not make the other 999 pages late.
_senders = ThreadPoolExecutor(max_workers=32, thread_name_prefix="warroom-page")


@dataclass
class PassReport:
    advanced: int = 0
    exhausted: int = 0
    breaches: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0

    def __iadd__(self, other: PassReport) -> PassReport:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def work(self) -> int:
        return sum(vars(self).values())


# ---------------------------------------------------------------------------------------------- tick
def tick(runtime: Runtime, budget: float | None = None) -> PassReport:
    """Work until just before the scheduler's next run, waking precisely at due times.

    The scheduler fires every `interval`; this returns about 10 % of an interval before the next
    fire. A pass that runs past a fire (a burst of pages) makes APScheduler skip that run, so the
    window is then stretched to the next fire instead of leaving the rest of the interval idle.
    """
    interval = runtime.settings.warroom_tick_seconds if budget is None else budget
    margin = interval * 0.1
    started = time.monotonic()
    ends = started + interval - margin
    report = PassReport()
    while True:
        done = run_due(runtime)
        report += done
        now = time.monotonic()
        if now >= ends + margin:  # we ran through a fire time: that run was skipped, carry on
            ends = started + (int((now - started) / interval) + 1) * interval - margin
        elif now >= ends:
            return report
        remaining = ends - now
        upcoming = next_due(runtime)
        pause = remaining
        if upcoming is not None:
            pause = min(remaining, (upcoming - runtime.clock.now()).total_seconds())
        # Something due but not ours (locked by a replica): do not spin on it.
        pause = max(pause, 0.0 if done.work else 0.05)
        wait_for_nudge(min(pause, remaining))


def run_due(runtime: Runtime) -> PassReport:
    """Everything due at the clock's now (tests with a ManualClock call this).

    Ladder steps and sends alternate batch by batch, so with a thousand incidents due at once the
    first pages leave while later ladders are still being stepped.
    """
    report = PassReport()
    groups, seen = GroupCache(runtime.pager), set[int]()
    try:
        report += notice_response_breaches(runtime)
        while True:
            stepped, more = _advance_batch(runtime, groups, seen)
            sent = _send_batch(runtime, None)
            report += stepped
            report += sent
            if not more and not sent.work:
                return report
    except Exception:  # one bad pass must not stop the scheduler; the rows are still there
        log.exception("escalation pass failed")
    return report


def next_due(runtime: Runtime) -> datetime | None:
    """The earliest moment any escalation work falls due, as far as the database says."""
    with runtime.session() as session:
        candidates = [
            session.scalar(select(func.min(EscalationState.next_at)).where(EscalationState.active.is_(True))),
            session.scalar(
                select(func.min(PageOutbox.next_attempt_at)).where(PageOutbox.status == "pending")
            ),
            session.scalar(
                select(func.min(Incident.response_due_at)).where(
                    Incident.status == "declared",
                    Incident.acknowledged_at.is_(None),
                    Incident.response_breach_at.is_(None),
                )
            ),
        ]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def _write_lock(session: Session) -> None:
    """SQLite has no row locks: take the database write lock first so check-then-write is atomic."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


# ----------------------------------------------------------------------------- 1. advance ladders
@dataclass
class _Step:
    incident_id: int
    tier: int  # the state as peeked; the step applies only if still so under the lock
    loop: int
    due: datetime
    ladder: EscalationPolicy
    next_tier: int | None = None  # None: exhausted
    next_loop: int = 0
    resolved: Resolved | None = None
    retry: bool = False  # a group lookup failed and is worth another try


def _plan(state_tier: int, state_loop: int, ladder: EscalationPolicy) -> tuple[int | None, int]:
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
        done, more = _advance_batch(runtime, groups, seen)
        report += done
        if not more:
            return report


def _advance_batch(runtime: Runtime, groups: GroupCache, seen: set[int]) -> tuple[PassReport, bool]:
    """One batch of due ladders; `more` is False once this pass has seen every due ladder."""
    now = runtime.clock.now()
    started = time.monotonic()
    steps, more = _peek_steps(runtime, now, groups, seen)
    if not steps:
        return PassReport(), more
    peeked = time.monotonic()
    report = _apply_steps(runtime, steps, now)
    log.debug(
        "stepped %d ladders (peek %.0f ms, apply %.0f ms)",
        report.advanced + report.exhausted,
        (peeked - started) * 1000,
        (time.monotonic() - peeked) * 1000,
    )
    return report, True


def _peek_steps(
    runtime: Runtime, now: datetime, groups: GroupCache, seen: set[int]
) -> tuple[list[_Step], bool]:
    """Read due ladders without locks and resolve their targets (Slack calls happen here, lock-free).

    Ladders this pass has already looked at are left out, so when a replica holds the first batch
    this process moves on to the next one instead of waiting behind it.
    """
    query = (
        select(EscalationState, Incident)
        .join(Incident, Incident.id == EscalationState.incident_id)
        .where(EscalationState.active.is_(True), EscalationState.next_at <= now)
        .order_by(EscalationState.next_at)
        .limit(BATCH)
    )
    if seen:
        query = query.where(EscalationState.incident_id.not_in(seen))
    with runtime.session() as session:
        rows = session.execute(query).all()
    steps = []
    for state, incident in rows:
        key = (state.incident_id, state.tier, state.loop)
        seen.add(state.incident_id)
        if _group_backoff.get(key, 0.0) > time.monotonic():
            continue
        assert state.next_at is not None
        policy = service.snapshot_policy(incident)
        ladder = service.ladder(policy, state.policy)
        step = _Step(incident.id, state.tier, state.loop, state.next_at, ladder)
        step.next_tier, step.next_loop = _plan(state.tier, state.loop, ladder)
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


def _apply_steps(runtime: Runtime, steps: list[_Step], now: datetime) -> PassReport:
    report = PassReport()
    by_id = {s.incident_id: s for s in steps}
    with runtime.session() as session:
        _write_lock(session)
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
            .execution_options(populate_existing=True)
        ).all()
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for state, incident in locked:
            step = by_id[state.incident_id]
            if (state.tier, state.loop) != (step.tier, step.loop):
                continue  # another process moved it between our peek and our lock
            if step.next_tier is None:
                _exhaust(state, incident, step, now, rows, events)
                report.exhausted += 1
            else:
                _page_rung(state, incident, step, now, rows, events)
                report.advanced += 1
        # One statement each for the whole batch; the unique keys keep replays harmless.
        insert_rows(session, rows)
        insert_events(session, events)
    return report


def _event(
    incident_id: int, kind: EventKind, text: str, data: dict[str, Any], key: str, at: datetime
) -> dict[str, Any]:
    return dict(
        incident_id=incident_id, kind=str(kind), actor=BOT_ACTOR, text=text, data=data, dedupe_key=key, at=at
    )


def _page_rung(
    state: EscalationState,
    incident: Incident,
    step: _Step,
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
    why = "no targets configured" if not tier.targets else "no one resolved"
    data = {
        "tier": tier.name,
        "tier_index": step.next_tier,
        "loop": step.next_loop,
        "users": users,
        "due_at": step.due.isoformat(),
    }
    text = messages.escalation_text(step.ladder, step.next_tier, step.next_loop, users, why)
    events.append(
        _event(
            incident.id,
            EventKind.ESCALATION,
            text,
            data,
            f"escalation:{step.next_loop}:{step.next_tier}",
            now,
        )
    )
    for error in step.resolved.errors:
        events.append(
            _event(
                incident.id,
                EventKind.PAGE_FAILED,
                f"Could not resolve {error.target} for {tier.name}: {error.code}",
                {"target": error.target, "error": error.code, "tier": tier.name, "loop": step.next_loop},
                f"resolve:{step.next_loop}:{step.next_tier}:{error.target}",
                now,
            )
        )
    state.tier, state.loop = step.next_tier, step.next_loop
    # Counted from when this tier was actually paged: after an outage, tier 2 still gets its full
    # timeout instead of every later tier being paged at once.
    state.next_at = max(step.due, now) + tier.timeout
    state.updated_at = now


def _exhaust(
    state: EscalationState,
    incident: Incident,
    step: _Step,
    now: datetime,
    rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    state.active = False
    state.stopped_reason = "exhausted"
    state.next_at = None
    state.updated_at = now
    policy = service.snapshot_policy(incident)
    events.append(
        _event(
            incident.id,
            EventKind.ESCALATION,
            "Escalation exhausted: nobody acknowledged after every tier was paged",
            {"exhausted": True, "loops": step.ladder.repeat + 1},
            "escalation:exhausted",
            now,
        )
    )
    rows.append(
        dict(
            incident_id=incident.id,
            kind="notice",
            loop=0,
            tier=NOTICE_TIER,
            target="notice:exhausted",
            text=messages.exhausted_text(light_view(incident, policy), step.ladder),
            due_at=now,
            next_attempt_at=now,
        )
    )


# ----------------------------------------------------------------------- 2. missed response targets
def notice_response_breaches(runtime: Runtime) -> PassReport:
    report = PassReport()
    now = runtime.clock.now()
    with runtime.session() as session:
        _write_lock(session)
        incidents = session.scalars(
            select(Incident)
            .where(
                Incident.status == "declared",
                Incident.acknowledged_at.is_(None),
                Incident.response_breach_at.is_(None),
                Incident.response_due_at <= now,
            )
            .order_by(Incident.response_due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True, key_share=True)
            .execution_options(populate_existing=True)
        ).all()
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for incident in incidents:
            policy = service.snapshot_policy(incident)
            target = incident.response_due_at - incident.declared_at
            incident.response_breach_at = now
            events.append(
                _event(
                    incident.id,
                    EventKind.RESPONSE_BREACH,
                    f"Response target missed: still unacknowledged {format_duration(target)} after declare",
                    {"response_due_at": incident.response_due_at.isoformat(), "severity": incident.severity},
                    "response_breach",
                    incident.response_due_at,  # when it was missed, even if noticed late
                )
            )
            rows.append(
                dict(
                    incident_id=incident.id,
                    kind="notice",
                    loop=0,
                    tier=NOTICE_TIER,
                    target="notice:response_breach",
                    text=messages.breach_text(light_view(incident, policy), target),
                    due_at=incident.response_due_at,
                    next_attempt_at=now,
                )
            )
            report.breaches += 1
        insert_rows(session, rows)
        insert_events(session, events)
    return report


# -------------------------------------------------------------------------------- 3. send the outbox
@dataclass
class _Claim:
    id: int
    kind: str
    incident_id: int
    loop: int
    tier: int
    target: str
    tier_name: str
    text: str | None
    requested_by: str | None
    due_at: datetime
    attempt: int
    deliveries: dict[str, Any]
    view: IncidentView
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "manual" if self.tier == MANUAL_TIER else "escalation"

    @property
    def key(self) -> str:
        return f"{self.incident_id}:{self.loop}:{self.tier}:{self.target}"


def send_due(runtime: Runtime, only_ids: Iterable[int] | None = None) -> PassReport:
    """Send every outbox row that is due, exactly once per key.

    Per batch: (a) claim — in one transaction, take due rows FOR UPDATE SKIP LOCKED, then share-lock
    their incidents' ladder rows and re-read `active`; rows of a stopped ladder are cancelled, the
    rest marked 'sending'; commit. An ack that committed before this transaction is seen and wins;
    an ack that commits later happened after the page left. (b) call Slack and the extra channels,
    outside any transaction, in parallel. (c) record each result; failures go back to 'pending'
    with backoff, and a channel that already succeeded is never called again for that row.
    """
    report = PassReport()
    wanted = sorted(set(only_ids)) if only_ids is not None else None
    while True:
        done = _send_batch(runtime, wanted)
        report += done
        if not done.work or wanted is not None:
            return report


def _send_batch(runtime: Runtime, wanted: list[int] | None) -> PassReport:
    report = PassReport()
    now = runtime.clock.now()
    started = time.monotonic()
    claims, cancelled = _claim(runtime, now, wanted)
    claimed = time.monotonic()
    report.cancelled += len(cancelled)
    if cancelled:
        _note_cancelled(runtime, cancelled, now)
    if claims:
        list(_senders.map(lambda c: _deliver(runtime, c, first=True), claims))
        paged = time.monotonic()
        list(_senders.map(lambda c: _deliver(runtime, c, first=False), claims))
        report.sent, report.failed = _record(runtime, claims)
        log.debug(
            "sent %d (claim %.0f ms, pages %.0f ms, rest+record %.0f ms)",
            len(claims),
            (claimed - started) * 1000,
            (paged - claimed) * 1000,
            (time.monotonic() - paged) * 1000,
        )
    return report


def _claim(
    runtime: Runtime, now: datetime, wanted: list[int] | None
) -> tuple[list[_Claim], list[PageOutbox]]:
    with runtime.session() as session:
        _write_lock(session)
        due = or_(
            and_(PageOutbox.status == "pending", PageOutbox.next_attempt_at <= now),
            and_(PageOutbox.status == "sending", PageOutbox.claimed_at < now - LEASE),
        )
        query = select(PageOutbox).where(due)
        if wanted is not None:
            query = query.where(PageOutbox.id.in_(wanted))
        rows = session.scalars(
            query.order_by(PageOutbox.next_attempt_at, PageOutbox.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return [], []
        ids = sorted({r.incident_id for r in rows})
        # Waits for an ack/resolve in flight on these incidents, then sees its outcome.
        states = {
            s.incident_id: s
            for s in session.scalars(
                select(EscalationState)
                .where(EscalationState.incident_id.in_(ids))
                .order_by(EscalationState.incident_id)
                .with_for_update(read=True)
                .execution_options(populate_existing=True)
            )
        }
        incidents = {
            i.id: i
            for i in session.scalars(
                select(Incident)
                .where(Incident.id.in_(ids))
                # The page needs the incident's facts, not its (large) policy snapshot.
                .options(defer(Incident.policy_snapshot))
                .execution_options(populate_existing=True)
            )
        }
        claims, cancelled = [], []
        for row in rows:
            incident = incidents[row.incident_id]
            state = states.get(row.incident_id)
            stop = _stop_reason(row, incident, state)
            if stop:
                row.status, row.error = "cancelled", stop
                cancelled.append(row)
                continue
            if (
                row.kind == "page"
                and incident.channel_id is None
                and not incident.setup_errors
                and now - incident.declared_at < CHANNEL_WAIT
            ):
                # The war room is still being created: the page should carry its link and invite.
                row.next_attempt_at = now + CHANNEL_POLL
                continue
            row.status, row.claimed_at, row.claimed_by = "sending", now, WORKER
            row.attempts += 1
            claims.append(
                _Claim(
                    row.id,
                    row.kind,
                    row.incident_id,
                    row.loop,
                    row.tier,
                    row.target,
                    row.tier_name,
                    row.text,
                    row.requested_by,
                    row.due_at,
                    row.attempts,
                    dict(row.deliveries or {}),
                    light_view(incident, runtime.policy),
                )
            )
    return claims, cancelled


def _stop_reason(row: PageOutbox, incident: Incident, state: EscalationState | None) -> str | None:
    if incident.status == "resolved":
        return "resolved"
    if row.kind == "page" and row.tier >= 0 and (state is None or not state.active):
        reason = state.stopped_reason if state else "no escalation"
        # The last tier's retries may run past exhaustion: exhaustion is no answer from anyone.
        if reason != "exhausted":
            return reason or "stopped"
    return None


def _note_cancelled(runtime: Runtime, rows: list[PageOutbox], now: datetime) -> None:
    events = [
        _event(
            row.incident_id,
            EventKind.PAGE,
            f"Page to <@{row.target}> ({row.tier_name}) not sent: escalation stopped ({row.error})",
            {"outbox_id": row.id, "target": row.target, "status": "cancelled", "reason": row.error},
            f"page:{row.id}:cancelled",
            now,
        )
        for row in rows
        if row.kind == "page"
    ]
    with runtime.session() as session:
        insert_events(session, events)


def _ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


def _failed(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _try(fn: Any) -> dict[str, Any]:
    try:
        return fn()
    except ChatError as exc:
        return _failed(exc.code)
    except DeliveryError as exc:
        return _failed(exc.code)
    except Exception as exc:  # a port that broke in an unexpected way: the page is still retried
        log.warning("delivery raised %s", type(exc).__name__, exc_info=True)
        return _failed(type(exc).__name__)


def _deliver(runtime: Runtime, claim: _Claim, first: bool) -> _Claim:
    """The channels of this row not yet delivered; results in claim.results. Never raises.

    `first`: the page itself (the Slack DM, or a channel notice); otherwise the rest (the channel
    invite, SMS, e-mail, webhook). A batch sends all its DMs before any of the rest, so in a burst
    the thousandth DM does not wait behind 999 invites.
    """
    done = {name for name, result in claim.deliveries.items() if result.get("ok")}

    def attempt(channel: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        started = time.monotonic()
        result = _try(call)
        claim.results[channel] = {
            **result,
            "at": runtime.clock.now().isoformat(),
            "ms": round((time.monotonic() - started) * 1000),  # how long the provider took
            "attempt": claim.attempt,
            "by": WORKER,
        }
        return claim.results[channel]

    channel_id = claim.view.channel_id
    if claim.kind == "notice":
        if not first:
            return claim
        if channel_id is None:
            attempt("slack", lambda: _failed("no_channel"))
        elif "slack" not in done:
            attempt("slack", lambda: _ok(ts=runtime.warroom.notify(channel_id, claim.text or "").ts))
        return claim

    user = claim.target
    if first:
        if "slack" not in done:
            request = PageRequest(user, claim.view, claim.tier_name, claim.reason, claim.requested_by)
            if attempt("slack", lambda: _ok(ts=runtime.pager.page(request).ts))["ok"]:
                _save_progress(runtime, claim)
        return claim
    if "invite" not in done and channel_id:
        attempt("invite", lambda: _invite(runtime, channel_id, user))
    # Contacts come from the live policy: a changed phone number applies to running incidents too.
    contact = runtime.policy.contacts.get(user)
    if contact is None:
        return claim
    now = runtime.clock.now()
    aws = aws_target(runtime.policy)
    if contact.sms and "sms" not in done:
        text = messages.sms_text(claim.view, claim.tier_name, claim.reason, claim.requested_by, now)
        attempt("sms", lambda: _ok(id=send_sms(aws, contact.sms or "", text)))
    if contact.email and "email" not in done:
        subject = messages.email_subject(claim.view, claim.tier_name)
        body = messages.email_body(claim.view, claim.tier_name, claim.reason, claim.requested_by, now)
        sender = runtime.policy.paging.email_from
        attempt("email", lambda: _ok(id=send_email(aws, sender, contact.email or "", subject, body)))
    if contact.webhook and "webhook" not in done:
        payload = messages.webhook_payload(
            claim.view, user, claim.tier_name, claim.reason, claim.requested_by, claim.key, now
        )
        timeout = runtime.policy.paging.webhook_timeout
        attempt("webhook", lambda: _ok(status=post_webhook(contact.webhook or "", payload, timeout)))
    return claim


def _save_progress(runtime: Runtime, claim: _Claim) -> None:
    """Write the DM's success at once: if this process dies before `_record`, the row is taken again
    after its lease and the DM is not sent a second time (only what had not succeeded is retried)."""
    result = claim.results["slack"]
    table = PageOutbox.__table__
    try:
        with runtime.engine.begin() as connection:  # one UPDATE, no ORM: this runs once per page
            connection.execute(
                table.update()
                .where(table.c.id == claim.id)
                .values(
                    deliveries={**claim.deliveries, "slack": result},
                    sent_at=func.coalesce(table.c.sent_at, datetime.fromisoformat(result["at"])),
                )
            )
    except Exception:  # `_record` writes the same again; this is only the crash-window guard
        log.warning("could not save page progress for outbox row %s", claim.id, exc_info=True)


def _invite(runtime: Runtime, channel_id: str, user: str) -> dict[str, Any]:
    try:
        runtime.warroom.invite(channel_id, [user])
    except ChatError as exc:
        if exc.code != "already_in_channel":
            raise
    return _ok()


CHANNEL_NAMES = {
    "slack": "Slack DM",
    "invite": "channel invite",
    "sms": "SMS",
    "email": "e-mail",
    "webhook": "webhook",
}


def _record(runtime: Runtime, claims: list[_Claim]) -> tuple[int, int]:
    sent = failed = 0
    now = runtime.clock.now()
    events: list[dict[str, Any]] = []
    with runtime.session() as session:
        found = session.scalars(select(PageOutbox).where(PageOutbox.id.in_([c.id for c in claims])))
        rows = {row.id: row for row in found}
        for claim in claims:
            row = rows.get(claim.id)
            if row is None:
                continue
            deliveries = {**claim.deliveries, **claim.results}
            row.deliveries = deliveries
            slack = claim.results.get("slack")
            if slack and slack.get("ok") and row.sent_at is None:
                row.sent_at = datetime.fromisoformat(slack["at"])
            failures = {name: r for name, r in claim.results.items() if not r.get("ok")}
            # A failed invite is reported but only retried when Slack may answer differently later.
            retry = {n: r for n, r in failures.items() if r["error"] not in PERMANENT}
            hopeless = {n for n in failures if n not in retry and n != "invite"}
            if not failures:
                row.status, row.error = "sent", None
                sent += 1
            elif not retry and not hopeless:
                row.status = "sent"
                row.error = "; ".join(f"{n}: {r['error']}" for n, r in failures.items())
                sent += 1
            elif hopeless or claim.attempt >= MAX_ATTEMPTS:
                row.status = "failed"
                row.error = "; ".join(f"{n}: {r['error']}" for n, r in failures.items())
                failed += 1
            else:
                row.status = "pending"
                row.error = "; ".join(f"{n}: {r['error']}" for n, r in failures.items())
                row.next_attempt_at = now + backoff(claim.attempt)
            row.claimed_at = row.claimed_by = None
            if claim.kind == "page":
                events.extend(_page_events(claim, row, failures, now))
            elif failures:
                log.warning(
                    "channel notice %s for incident %s failed: %s", claim.target, claim.incident_id, row.error
                )
        insert_events(session, events)
    for claim in claims:  # after the commit: counted once the outcome is recorded
        metrics.observe_page(claim.results, claim.due_at, claim.kind)
    return sent, failed


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(60, 2**attempt))


def _page_events(
    claim: _Claim, row: PageOutbox, failures: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """One timeline event per delivery attempt: what reached the person, and what did not."""
    delivered = [CHANNEL_NAMES.get(n, n) for n, r in claim.results.items() if r.get("ok") and n != "invite"]
    who = f"<@{claim.target}> ({claim.tier_name}{', by hand' if claim.reason == 'manual' else ''})"
    data = {
        "outbox_id": claim.id,
        "key": claim.key,
        "target": claim.target,
        "tier": claim.tier_name,
        "loop": claim.loop,
        "attempt": claim.attempt,
        "reason": claim.reason,
        "deliveries": claim.results,
        "due_at": claim.due_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }
    events = []
    if delivered:
        text = f"Paged {who} via {', '.join(delivered)}"
        events.append(
            _event(claim.incident_id, EventKind.PAGE, text, data, f"page:{claim.id}:{claim.attempt}", now)
        )
    if failures:
        what = ", ".join(f"{CHANNEL_NAMES.get(n, n)} ({r['error']})" for n, r in failures.items())
        then = (
            "giving up"
            if row.status in ("failed", "sent")
            else f"retrying in {int(backoff(claim.attempt).total_seconds())}s"
        )
        text = f"Page to {who} failed: {what}; attempt {claim.attempt} of {MAX_ATTEMPTS}, {then}"
        key = f"page-failed:{claim.id}:{claim.attempt}"
        events.append(_event(claim.incident_id, EventKind.PAGE_FAILED, text, data, key, now))
    return events


# ---------------------------------------------------------------------------------------- helpers
def light_view(incident: Incident, policy: Policy) -> IncidentView:
    """An IncidentView without the roles/checklist queries a page does not need (cheap for 1,000)."""
    return IncidentView.of(incident, policy.severity(incident.severity).label)


__all__ = ["PassReport", "TargetError", "advance_ladders", "next_due", "run_due", "send_due", "tick"]
