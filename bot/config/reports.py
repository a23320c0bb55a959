"""Reports in the policy (SPEC §12): when the weekly report is posted in `announce_channel`."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from bot.config.strict import Strict
from bot.config.zones import TimeZoneName
from bot.i18n import _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_AT = re.compile(r"^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*$")


class ReportsConfig(Strict):
    """The weekly report: last week's figures and chart in `announce_channel`."""

    weekly: bool = Field(default=True, description="Post the weekly report in announce_channel.")
    weekly_at: str = Field(
        default="mon 09:00", description="Weekday and local time of the weekly post, e.g. 'mon 09:00'."
    )
    timezone: TimeZoneName = Field(
        default="UTC", description="IANA time zone of weekly_at, e.g. Asia/Shanghai."
    )

    @field_validator("weekly_at")
    @classmethod
    def _weekly_at(cls, value: str) -> str:
        match = _AT.match(value.lower())
        if (
            not match
            or match.group(1) not in WEEKDAYS
            or int(match.group(2)) > 23
            or int(match.group(3)) > 59
        ):
            raise ValueError(
                _(
                    "invalid weekly_at {value}: write a weekday and a time, like 'mon 09:00'",
                    value=repr(value),
                )
            )
        return value.lower().strip()

    def slot(self) -> tuple[int, int, int]:
        """(weekday 0=Monday, hour, minute) of the weekly post."""
        match = _AT.match(self.weekly_at)
        assert match is not None  # validated
        return WEEKDAYS.index(match.group(1)), int(match.group(2)), int(match.group(3))
