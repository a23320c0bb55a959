"""Who is on call at a moment: shifts that start at a local wall-clock time, across DST changes.

A rotation hands off at `handoff` ("mon 10:00", or "10:00" for every day) in its `timezone`.
The first shift starts at the first such moment on or after `start` (default 2024-01-01) and
belongs to `users[0]`; every `every` of *wall-clock* time the next user takes over, round and round.

Why wall-clock arithmetic: a weekly 10:00 handoff in Europe/Berlin must stay at 10:00 local after
the clocks change, so a shift across a DST change lasts 167 h or 169 h of real time, not 168 h.
Wall times the zone skips (the spring-forward gap) are read with the offset in force before the
change; repeated wall times (fall back) mean their first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.config.policy import Rotation

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_START = date(2024, 1, 1)


@dataclass(frozen=True)
class Shift:
    user_id: str
    index: int  # how many handoffs after the first shift (negative before it)
    starts: datetime  # aware UTC
    ends: datetime  # aware UTC
    timezone: str


def _parse_handoff(handoff: str) -> tuple[int | None, time]:
    match = re.match(r"^\s*([a-z]{3})?\s*(\d{1,2}):(\d{2})\s*$", handoff.lower())
    if not match:
        raise ValueError(f"invalid handoff {handoff!r}")
    weekday = WEEKDAYS.index(match.group(1)) if match.group(1) else None
    return weekday, time(int(match.group(2)), int(match.group(3)))


@lru_cache(maxsize=256)
def _first_handoff(handoff: str, start: str | None) -> datetime:
    """The first handoff as a naive local wall-clock time."""
    weekday, at = _parse_handoff(handoff)
    day = date.fromisoformat(start) if start else DEFAULT_START
    if weekday is not None:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, at)


def _to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _boundary(rotation: Rotation, index: int) -> datetime:
    """Start of shift `index` in UTC: first handoff + index × every, counted on the local wall clock."""
    wall = _first_handoff(rotation.handoff, rotation.start) + index * rotation.every
    return _to_utc(wall, ZoneInfo(rotation.timezone))


def shift_at(rotation: Rotation, at: datetime) -> Shift:
    """The shift in force at `at` (aware)."""
    zone = ZoneInfo(rotation.timezone)
    first = _first_handoff(rotation.handoff, rotation.start)
    wall_now = at.astimezone(zone).replace(tzinfo=None)
    # A first guess from wall-clock distance, then corrected against the real boundaries:
    # around a DST change the wall clock and real time disagree by up to an hour.
    index = (wall_now - first) // rotation.every
    while _boundary(rotation, index) > at:
        index -= 1
    while _boundary(rotation, index + 1) <= at:
        index += 1
    user = rotation.users[index % len(rotation.users)]
    return Shift(user, index, _boundary(rotation, index), _boundary(rotation, index + 1), rotation.timezone)


def on_call(rotation: Rotation, at: datetime) -> str:
    """The user id on call at `at`."""
    return shift_at(rotation, at).user_id
