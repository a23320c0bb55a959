"""Report windows: `week`, `month`, `7d`, or a date, read into [since, until) in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.config.durations import parse_duration
from bot.i18n import _

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30)}


class PeriodError(ValueError):
    """A window the report cannot read; the message says what to type instead."""


def parse_since(text: str, now: datetime) -> datetime:
    """'week' / 'month' (the last 7 / 30 days), '14d', or '2026-11-01' (UTC midnight)."""
    word = text.strip().lower()
    if word in PERIODS:
        return now - PERIODS[word]
    if re.fullmatch(r"\d+[dhw]", word):
        return now - parse_duration(word)
    try:
        moment = datetime.fromisoformat(word)
    except ValueError as exc:
        raise PeriodError(
            _(
                "Cannot read {text!r} as a start: use week, month, a number of days like 14d, or a date like 2026-11-01.",
                text=text,
            )
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
