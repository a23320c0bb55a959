"""The base of every policy model: unknown keys refused, values frozen, no duration of 0s or less."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from bot.i18n import _


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _durations_positive(cls, value: Any) -> Any:
        # No duration in the policy means anything at 0s: a 0s timeout or TTL only ever fails.
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError(_("must be longer than 0s (write it like 30s, 15m, 1h)"))
        return value
