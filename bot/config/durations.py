"""Durations as people write them in the policy file: 30s, 15m, 1h, 1d, 1w."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

from bot.i18n import _

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
# What format_duration writes back ("1h 30m", "1m 30s"): a policy snapshot must parse again.
_COMPOUND = re.compile(r"^\s*(?:\d+\s*[smhdw]\s+)+\d+\s*[smhdw]\s*$")


def parse_duration(value: object) -> timedelta:
    """Parse '15m' (or a timedelta, or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(_invalid(value))
    try:
        if isinstance(value, int | float):
            if not value >= 0:  # NaN too
                raise ValueError(_("a duration cannot be negative"))
            return timedelta(seconds=value)
        if isinstance(value, str):
            match = _PATTERN.match(value.lower())
            if match:
                return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
            if _COMPOUND.match(value.lower()):
                parts = re.findall(r"(\d+)\s*([smhdw])", value.lower())
                return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    except OverflowError as exc:
        raise ValueError(_("duration {value} is too long", value=repr(value))) from exc
    raise ValueError(_invalid(value))


def _invalid(value: object) -> str:
    return _("invalid duration {value}: use a number and a unit, like 30s, 15m, 1h or 1d", value=repr(value))


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling, e.g. 5400s -> '1h 30m'."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + " ".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
