"""Reading what the bot sent to Slack the way Slack reads it: where is a live broadcast or a disguised link?"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# What Slack turns into a notification for many people, in mrkdwn.
BROADCAST = re.compile(r"<!(?:channel|here|everyone|group)(?:\|[^>]*)?>|<!subteam\^[^>]*>")
# A link with a label of its own choosing: shows "click", goes to evil.example.
LABELLED_LINK = re.compile(r"<(?:https?|mailto|ftp)[^|<>]*\|[^<>]*>")


# Fields that carry no mrkdwn (ids, timestamps, file content and titles, channel names), at any depth.
NOT_TEXT = {
    "channel",
    "ts",
    "user",
    "users",
    "name",
    "token",
    "file",
    "content",
    "filename",
    "title",
    "thread_ts",
    "timestamp",
    "trigger_id",
    "view_id",
    "response_id",
    "private_metadata",
}


def mrkdwn_strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string Slack would parse as mrkdwn: plain_text objects are shown as typed and skipped."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "[{":  # blocks arrive JSON-encoded in form posts
            try:
                yield from mrkdwn_strings(json.loads(stripped), where)
                return
            except ValueError:
                pass
        yield where, value
    elif isinstance(value, dict):
        if value.get("type") == "plain_text":
            return
        for key, item in value.items():
            if key not in NOT_TEXT:
                yield from mrkdwn_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from mrkdwn_strings(item, f"{where}[{n}]")


def live_markup(method: str, params: dict[str, Any], own_links: tuple[str, ...] = ()) -> list[str]:
    """Live broadcasts and labelled links in one recorded call's parameters.

    `own_links`: URL prefixes of links the bot makes itself (Slack permalinks), which may carry a label.
    """
    found = []
    for key, value in params.items():
        if key in NOT_TEXT:
            continue
        for where, text in mrkdwn_strings(value, f"{method}:{key}"):
            for match in (*BROADCAST.finditer(text), *LABELLED_LINK.finditer(text)):
                if match.group(0)[1:].startswith(own_links) and own_links:
                    continue
                found.append(f"{where}: {match.group(0)!r} in {text[:200]!r}")
    return found
