"""The weekly report in `announce_channel`: a row per week, claimed once across replicas.

Every replica's tick writes the current week's row (unique `period`, ON CONFLICT DO NOTHING) once
the week's slot has come (`reports.weekly_at` in `reports.timezone`, default Monday 09:00 UTC),
then claims due rows FOR UPDATE SKIP LOCKED and posts while holding the row: another replica skips
it, and the row is marked posted in the same transaction. A bot that was down for weeks posts only
the latest week. The figures and the chart are made before the claim, so
no lock waits on matplotlib.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.config.reports import ReportsConfig
from bot.db.locks import write_lock
from bot.i18n import _, use_language
from bot.ports import ChatError
from bot.reports import figures, render
from bot.reports.models import ReportPost

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 12


def week_slot(now: datetime, config: ReportsConfig | None = None) -> datetime:
    """The latest weekly slot (default Monday 09:00 UTC) at or before `now`, in UTC.

    Counted on the local wall clock of the configured zone, so 09:00 stays 09:00 across DST; a wall
    time the zone skips is read with the offset before the change (fold=0), as rotations are.
    """
    config = config or ReportsConfig()
    weekday, hour, minute = config.slot()
    zone = ZoneInfo(config.timezone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    for back in (0, 7):
        wall = datetime.combine(day - timedelta(days=back), time(hour, minute))
        slot = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if slot <= now:
            return slot
    raise AssertionError("unreachable: a week earlier is always before now")


def plan(runtime: Runtime, now: datetime) -> None:
    """Write this week's row if there is none (every replica may; one row results).

    The very first row is written as skipped: a bot installed (or a weekly post turned on) on a
    Thursday does not open with last week's report; from the next slot on, every week is posted.
    """
    channel = runtime.policy.announce_channel
    if not channel or not runtime.policy.reports.weekly:
        return
    slot = week_slot(now, runtime.policy.reports)
    values = dict(
        period=f"weekly:{slot:%Y-%m-%d}",
        channel_id=channel,
        since=slot - timedelta(days=7),
        until=slot,
        status="pending",
        attempts=0,
        next_attempt_at=slot,
    )
    with runtime.session() as session:
        first = session.scalar(select(ReportPost.id).where(ReportPost.period.like("weekly:%")).limit(1))
        if first is None:
            values["status"] = "skipped"
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            module.insert(ReportPost.__table__).on_conflict_do_nothing(index_elements=["period"]), [values]
        )


def _due(runtime: Runtime, now: datetime) -> ReportPost | None:
    with runtime.session() as session:
        return session.scalar(
            select(ReportPost)
            .where(
                ReportPost.period.like("weekly:%"),
                ReportPost.status == "pending",
                ReportPost.next_attempt_at <= now,
            )
            .order_by(ReportPost.next_attempt_at)
            .limit(1)
        )


def tick(runtime: Runtime) -> int:
    """Post the week's report if it is due; returns how many were posted (0 or 1)."""
    now = runtime.clock.now()
    plan(runtime, now)
    peeked = _due(runtime, now)
    if peeked is None:
        return 0
    with use_language(runtime.policy.language):
        with runtime.session() as session:
            report = figures.build(session, runtime.policy, peeked.since, peeked.until, now)
        text = render.slack_text(report)
        chart = render.chart_png(report)
        title = _(
            "Incident report {since} → {until}",
            since=f"{peeked.since:%Y-%m-%d}",
            until=f"{peeked.until:%Y-%m-%d}",
        )
    with runtime.session() as session:
        write_lock(session)
        row = session.scalar(
            select(ReportPost)
            .where(
                ReportPost.id == peeked.id, ReportPost.status == "pending", ReportPost.next_attempt_at <= now
            )
            .with_for_update(skip_locked=True)
        )
        if row is None:  # another replica has it, or posted it meanwhile
            return 0
        row.attempts += 1
        try:
            posted = runtime.warroom.notify(row.channel_id, text)
        except ChatError as exc:
            row.error = exc.code
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            row.next_attempt_at = now + RETRY_AFTER
            log.warning("weekly report not posted: %s (attempt %d)", exc.code, row.attempts)
            return 0
        row.status, row.posted_at, row.message_ts, row.error = "posted", now, posted.ts, None
        try:
            runtime.files.upload(row.channel_id, f"report-{row.until:%Y-%m-%d}.png", title, chart, "")
        except ChatError as exc:  # the figures are posted; the chart is a picture of them
            log.warning("weekly report chart not uploaded: %s", exc.code)
    return 1
