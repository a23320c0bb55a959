"""Helpers shared by the renderers: Slack's size limits and safe text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import _
from bot.text import clip, escape

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MAX_BLOCKS = 50

Block = dict[str, Any]
__all__ = ["clip", "escape"]  # re-exported for the renderers


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_LIMIT), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(markdown, SECTION_LIMIT)}}


def sections(lines: list[str], limit: int = 2900) -> list[Block]:
    """Lines packed into as few sections as fit: Slack refuses a section over 3,000 characters."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > limit:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": clip(f"*{k}*\n{v}", 2000)} for k, v in pairs[:10]],
    }


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(markdown, SECTION_LIMIT)}]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: dict[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def when(moment: datetime | None) -> str:
    """Slack renders <!date^…> in each reader's time zone; the fallback is UTC."""
    if moment is None:
        return "—"
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def user(user_id: str | None) -> str:
    if not user_id:
        return _("_unassigned_")
    # Machines declare too (alerts:prometheus): they are named, not mentioned.
    return f"<@{user_id}>" if user_id[:1] in ("U", "W") and user_id.isalnum() else escape(user_id)
