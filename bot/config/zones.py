"""Time zones in the policy: an IANA name, checked when the policy loads."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

from bot.i18n import _


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            _("unknown time zone {value}: use an IANA name like Asia/Shanghai", value=repr(value))
        ) from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
