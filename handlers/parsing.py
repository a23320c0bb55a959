"""Parsing what people type: user mentions as Slack escapes them, and plain ids from the console."""

from __future__ import annotations

import re

from bot.i18n import _
from bot.incidents.service import IncidentError

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_RAW_ID = re.compile(r"^@?([UW][A-Z0-9]{2,})$")


def parse_user(token: str, usage: str) -> str:
    token = token.strip()
    for pattern in (_MENTION, _RAW_ID):
        match = pattern.match(token)
        if match:
            return match.group(1)
    raise IncidentError(
        _(
            "`{token}` is not a user. Mention them with @ so Slack links the name: `{usage}`.",
            token=token or _("(nothing)"),
            usage=usage,
        )
    )
