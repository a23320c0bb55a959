"""What Slack does with a payload posted to a response_url."""

from __future__ import annotations

from typing import Any

from devkit.slack_emulator.model import ResponseUrl
from devkit.slack_emulator.state import Workspace

MAX_USES = 5  # Slack lets a response_url be used five times within 30 minutes


def deliver(ws: Workspace, hook: ResponseUrl, payload: dict[str, Any]) -> str | None:
    """Apply `payload` to the workspace; returns an error string when Slack would refuse it."""
    with ws.lock:
        if len(hook.payloads) >= MAX_USES:
            return "used_url"
        hook.payloads.append(payload)
        ch = ws.channels.get(hook.channel)
        original = ch.find(hook.message_ts) if ch and hook.message_ts else None
        text, blocks = str(payload.get("text") or ""), payload.get("blocks") or None
        if ch is not None and original is not None and _flag(payload.get("delete_original")):
            ch.messages.remove(original)
        elif original is not None and _flag(payload.get("replace_original")):
            original["text"] = text
            original.pop("blocks", None)
            if blocks:
                original["blocks"] = blocks
        elif ch is not None and payload.get("response_type") == "in_channel":
            ws.post(ch, ws.bot_user_id, text=text, blocks=blocks, thread_ts=payload.get("thread_ts"))
        else:  # ephemeral is the default, and what a replaced ephemeral message becomes
            ws.ephemeral_messages.append(
                {
                    "channel": hook.channel,
                    "user": hook.user,
                    "text": text,
                    "blocks": blocks,
                    "ts": ws.new_ts(),
                    "thread_ts": None,
                    "via": "response_url",
                    "response_id": hook.id,
                }
            )
        return None


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
