"""Text helpers shared by the domain's messages and the Slack renderers: mrkdwn-safe and size-bounded."""

from __future__ import annotations

import re

_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def escape(text: str) -> str:
    """Slack's control characters, so text cannot become a link or a broadcast; user mentions stay."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub(r"<@\1>", escaped)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PLACEHOLDER = re.compile(r"<(?![@#!]|https?:|mailto:)([^<>]*)>")


def escape_placeholders(text: str) -> str:
    """`<title>` in help and error text, escaped; mentions, channels and links (<@U…>, <#C…>, <https:…>) kept."""
    return _PLACEHOLDER.sub(r"&lt;\1&gt;", text)
