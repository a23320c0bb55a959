"""Drill flows: the drill report as a durable post — a `report_posts` row per resolve, posted once.

The resolve hook writes the row and posts it at once; the tick (every few seconds, any replica)
posts what is left — a Slack error is retried with backoff — and writes the row for a resolved
drill that has none (a process that died between the resolve's commit and its hook). A row is
claimed, sent with no transaction open and recorded posted (with its timeline note) only if the
claim is still ours (bot.reports.posts), so a slow Slack holds no database lock and a report is
posted once whatever the number of replicas; a claim whose process died is taken over after the
lease. Keyed by the resolve time: a later resolve (after a reopen) gets its own report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.drills import report
from bot.i18n import N_, use_language
from bot.incidents.models import Incident
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, said
from bot.reports import posts
from bot.reports.models import ReportPost

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
PREFIX = "drill-report:"
LOOK_BACK = timedelta(days=7)  # resolved drills the tick still writes a missing row for
MAX_ATTEMPTS = 20


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(300, 2**attempt))


KIND = posts.Kind(PREFIX, MAX_ATTEMPTS, backoff)


def _period(incident: Incident) -> str:
    assert incident.resolved_at is not None
    return f"{PREFIX}{incident.id}:{incident.resolved_at:%Y%m%dT%H%M%S}"


def _plan(session: Session, incident: Incident, now: datetime) -> None:
    """The report's row, once per resolve (ON CONFLICT DO NOTHING)."""
    if not incident.is_drill or incident.status != "resolved" or not incident.channel_id:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        module.insert(ReportPost.__table__).on_conflict_do_nothing(index_elements=["period"]),
        [
            dict(
                period=_period(incident),
                channel_id=incident.channel_id,
                since=incident.declared_at,
                until=incident.resolved_at,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        ],
    )


def on_resolved(runtime: Runtime, incident_id: int, actor: str) -> None:
    """Hook after a resolve commits: a drill's report row, then the post at once."""
    try:
        with runtime.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or not incident.is_drill:
                return
            _plan(session, incident, runtime.clock.now())
        post_due(runtime)
    except Exception:
        # The resolve has committed and must still be answered; the tick posts what is left.
        log.exception("drill report failed", extra={"incident_id": incident_id})


def reconcile(runtime: Runtime, now: datetime) -> None:
    """Rows for resolved drills that have none (their hook never ran)."""
    with runtime.session() as session:
        drills = session.scalars(
            select(Incident).where(
                Incident.is_drill.is_(True),
                Incident.status == "resolved",
                Incident.resolved_at >= now - LOOK_BACK,
            )
        ).all()
        if not drills:
            return
        known = set(session.scalars(select(ReportPost.period).where(ReportPost.period.like(f"{PREFIX}%"))))
        for incident in drills:
            if _period(incident) not in known:
                _plan(session, incident, now)


def post_due(runtime: Runtime) -> int:
    """Post every due drill report; returns how many were posted."""
    posted = 0
    while (item := posts.claim(runtime, KIND, runtime.clock.now())) is not None:
        posted += _post(runtime, item)
    return posted


def _post(runtime: Runtime, item: posts.Claimed) -> int:
    """Send one claimed report (no transaction open) and record it with its timeline note."""
    incident_id = int(item.period.removeprefix(PREFIX).split(":", 1)[0])
    with (
        posts.preparing(runtime, KIND, item),
        runtime.session() as session,
        use_language(runtime.policy.language),
    ):
        incident = session.get(Incident, incident_id)
        text = report.render(report.build(session, incident, runtime.policy)) if incident else None
    if text is None:
        posts.record(runtime, KIND, item, runtime.clock.now(), error="no_incident", final=True)
        return 0
    message: str = text  # narrowed for the closure below

    def note(session: Session, row: ReportPost) -> None:
        line, spoken = said(N_("Drill report posted"))  # told again in each reader's language
        data = {"ts": row.message_ts, **spoken}
        add_event(
            session,
            incident_id,
            EventKind.NOTE,
            BOT_ACTOR,
            line,
            data=data,
            dedupe_key=row.period,
            at=row.posted_at,
        )

    return int(
        posts.send(runtime, KIND, item, lambda: runtime.warroom.notify(item.channel_id, message).ts, note)
    )


def tick(runtime: Runtime) -> int:
    reconcile(runtime, runtime.clock.now())
    return post_due(runtime)
