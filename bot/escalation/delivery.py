"""Sending the outbox: claim due rows, deliver them outside any transaction, record each outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import defer

from bot import metrics
from bot.db.locks import write_lock
from bot.escalation import passes
from bot.escalation.channels import Claim, channel_name, deliver
from bot.escalation.messages import STOP_REASONS
from bot.escalation.models import EscalationState, PageOutbox
from bot.escalation.outbox import insert_events
from bot.escalation.passes import WORKER, PassReport, event, light_view
from bot.i18n import N_, _
from bot.incidents.models import Incident
from bot.incidents.timeline import EventKind, said

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)  # a 'sending' row older than this belongs to a dead process
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
        done = send_batch(runtime, wanted)
        report += done
        if not done.work or wanted is not None:
            return report


def send_batch(runtime: Runtime, wanted: list[int] | None, later: list[Claim] | None = None) -> PassReport:
    """Claim a batch and send its pages; then the rest (invites, SMS, ...) and the record — or, given
    `later`, leave those to `finish(later)` so that a burst's next batches of pages go first."""
    report = PassReport()
    now = runtime.clock.now()
    started = time.monotonic()
    claims, cancelled = claim_due(runtime, now, wanted)
    claimed = time.monotonic()
    report.cancelled += len(cancelled)
    if cancelled:
        note_cancelled(runtime, cancelled, now)
    if claims:
        list(_senders.map(lambda c: deliver(runtime, c, first=True), claims))
        log.debug(
            "paged %d (claim %.0f ms, pages %.0f ms)",
            len(claims),
            (claimed - started) * 1000,
            (time.monotonic() - claimed) * 1000,
        )
        if later is None:
            report += finish(runtime, claims)
        else:
            later.extend(claims)
            report.paged += len(claims)
    return report


def finish(runtime: Runtime, claims: list[Claim]) -> PassReport:
    """The rest of each claimed row's channels, in parallel, then its outcome recorded."""
    report = PassReport()
    started = time.monotonic()
    list(_senders.map(lambda c: deliver(runtime, c, first=False), claims))
    report.sent, report.failed = record(runtime, claims)
    log.debug("finished %d (rest+record %.0f ms)", len(claims), (time.monotonic() - started) * 1000)
    return report


def claim_due(
    runtime: Runtime, now: datetime, wanted: list[int] | None
) -> tuple[list[Claim], list[PageOutbox]]:
    with runtime.session() as session:
        write_lock(session)
        due = or_(
            and_(PageOutbox.status == "pending", PageOutbox.next_attempt_at <= now),
            and_(PageOutbox.status == "sending", PageOutbox.claimed_at < now - LEASE),
        )
        query = select(PageOutbox).where(due)
        if wanted is not None:
            query = query.where(PageOutbox.id.in_(wanted))
        rows = session.scalars(
            query.order_by(PageOutbox.next_attempt_at, PageOutbox.id)
            .limit(passes.SEND_BATCH)
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
            stop = stop_reason(row, incident, state)
            if stop:
                row.status, row.error = "cancelled", stop
                cancelled.append(row)
                continue
            claims.append(
                Claim(
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
                    row.attempts + 1,
                    dict(row.deliveries or {}),
                    light_view(incident, runtime.policy).outside(),  # pages leave the room
                )
            )
        if claims:  # one statement for the batch (the rows are locked), not the ORM's one per row
            table = PageOutbox.__table__
            session.execute(
                update(table)
                .where(table.c.id.in_([c.id for c in claims]))
                .values(status="sending", claimed_at=now, claimed_by=WORKER, attempts=table.c.attempts + 1)
            )
    return claims, cancelled


def stop_reason(row: PageOutbox, incident: Incident, state: EscalationState | None) -> str | None:
    if incident.status == "resolved":
        return "resolved"
    if row.kind == "page" and row.tier >= 0 and incident.status != "declared":
        return (
            incident.status
        )  # acknowledged or mitigated: re-checked under the claim, whatever the ladder says
    if row.kind == "page" and row.tier >= 0 and (state is None or not state.active):
        reason = state.stopped_reason if state else "no escalation"
        # The last tier's retries may run past exhaustion: exhaustion is no answer from anyone.
        if reason != "exhausted":
            return reason or "stopped"
    return None


def note_cancelled(runtime: Runtime, rows: list[PageOutbox], now: datetime) -> None:
    events = []
    for row in rows:
        if row.kind != "page":
            continue
        code = row.error or "stopped"
        text, spec = said(
            N_("Page to {who} ({tier}) not sent: escalation stopped ({reason})"),
            ("reason",) if code in STOP_REASONS else (),
            who=f"<@{row.target}>",
            tier=row.tier_name,
            reason=STOP_REASONS.get(code, code),
        )
        data = {"outbox_id": row.id, "target": row.target, "status": "cancelled", "reason": row.error, **spec}
        events.append(event(row.incident_id, EventKind.PAGE, text, data, f"page:{row.id}:cancelled", now))
    with runtime.session() as session:
        insert_events(session, events)


def record(runtime: Runtime, claims: list[Claim]) -> tuple[int, int]:
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
                events.extend(page_events(claim, row, failures, now))
            elif failures:
                log.warning(
                    "channel notice %s for incident %s failed: %s", claim.target, claim.incident_id, row.error
                )
        insert_events(session, events)
    for claim in claims:  # after the commit: counted once the outcome is recorded; drills never count
        if not claim.view.drill:
            metrics.observe_page(claim.results, claim.due_at, claim.kind)
    return sent, failed


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(60, 2**attempt))


def page_events(
    claim: Claim, row: PageOutbox, failures: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """One timeline event per delivery attempt: what reached the person, and what did not."""
    delivered = [channel_name(n) for n, r in claim.results.items() if r.get("ok") and n != "invite"]
    if claim.reason == "manual":
        who = _("{user} ({tier}, by hand)", user=f"<@{claim.target}>", tier=claim.tier_name)
    else:
        who = _("{user} ({tier})", user=f"<@{claim.target}>", tier=claim.tier_name)
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
        text = _("Paged {who} via {channels}", who=who, channels=_(", ").join(delivered))
        events.append(
            event(claim.incident_id, EventKind.PAGE, text, data, f"page:{claim.id}:{claim.attempt}", now)
        )
    if failures:
        what = _(", ").join(f"{channel_name(n)} ({r['error']})" for n, r in failures.items())
        if row.status in ("failed", "sent"):
            then = _("giving up")
        else:
            then = _("retrying in {seconds}s", seconds=int(backoff(claim.attempt).total_seconds()))
        text = _(
            "Page to {who} failed: {what}; attempt {attempt} of {attempts}, {then}",
            who=who,
            what=what,
            attempt=claim.attempt,
            attempts=MAX_ATTEMPTS,
            then=then,
        )
        key = f"page-failed:{claim.id}:{claim.attempt}"
        events.append(event(claim.incident_id, EventKind.PAGE_FAILED, text, data, key, now))
    return events
