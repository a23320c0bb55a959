"""The weekly report in `announce_channel`: a row per week, claimed once across replicas.

Every replica's tick writes the current week's row (unique `period`, ON CONFLICT DO NOTHING) once
the week's slot has come (`reports.weekly_at` in `reports.timezone`, default Monday 09:00 UTC),
then claims a due row, makes the figures and the chart, posts and records (bot.reports.posts): the
claim and the record are short transactions of their own, and Slack is called with none open, so a
slow Slack holds no database lock; another replica skips a claimed row, and takes it over only if
the claim outlived its lease. A Slack error is tried again RETRY_AFTER later, MAX_ATTEMPTS times.
The chart is uploaded after the figures are recorded as posted; a failed upload is logged, not
retried. A bot that was down for weeks posts only the latest week.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.config.reports import ReportsConfig
from bot.i18n import _, use_language
from bot.ports import ChatError
from bot.reports import figures, posts, render
from bot.reports.models import ReportPost

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 12
KIND = posts.Kind("weekly:", MAX_ATTEMPTS, lambda attempt: RETRY_AFTER)


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


def tick(runtime: Runtime) -> int:
    """Post the week's report if it is due; returns how many were posted (0 or 1)."""
    now = runtime.clock.now()
    plan(runtime, now)
    item = posts.claim(runtime, KIND, now)
    if item is None:  # nothing due, or another replica has it
        return 0
    with posts.preparing(runtime, KIND, item), use_language(runtime.policy.language):
        with runtime.session() as session:
            report = figures.build(session, runtime.policy, item.since, item.until, now)
        text = render.slack_text(report)
        chart = render.chart_png(report)
        title = _(
            "Incident report {since} → {until}",
            since=f"{item.since:%Y-%m-%d}",
            until=f"{item.until:%Y-%m-%d}",
        )
    if not posts.send(runtime, KIND, item, lambda: runtime.warroom.notify(item.channel_id, text).ts):
        return 0
    try:  # after the figures are recorded as posted: the chart is a picture of them, not retried
        runtime.files.upload(item.channel_id, f"report-{item.until:%Y-%m-%d}.png", title, chart, "")
    except ChatError as exc:
        log.warning("weekly report chart not uploaded: %s", exc.code)
    return 1
