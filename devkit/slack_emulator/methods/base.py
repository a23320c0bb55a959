"""The method registry and argument helpers. Handlers run under the workspace lock (see server)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devkit.slack_emulator.model import Channel
from devkit.slack_emulator.state import Workspace

Params = dict[str, Any]
Handler = Callable[["Ctx", Params], dict[str, Any]]


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer; `extra` holds fields such as `needed`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


@dataclass
class Ctx:
    ws: Workspace
    caller: str  # user id of the token's owner
    base_url: str
    scopes: frozenset[str]
    trigger_ttl: float


@dataclass
class Method:
    handler: Handler
    scopes: tuple[str, ...]  # any one of them is enough


REGISTRY: dict[str, Method] = {}


def method(name: str, *scopes: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        REGISTRY[name] = Method(fn, scopes)
        return fn

    return register


def flag(p: Params, key: str, default: bool = False) -> bool:
    value = p.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def as_list(value: Any) -> list[str]:
    """`users=U1,U2` in a form, or a JSON list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def json_arg(p: Params, key: str) -> Any:
    value = p.get(key)
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(f"invalid_{key}") from exc
    return value


def channel_arg(
    ctx: Ctx, p: Params, key: str = "channel", *, member: bool = False, writable: bool = False
) -> Channel:
    """Look a channel up the way Slack does: a private channel the caller is not in does not exist."""
    ref = str(p.get(key) or "")
    ch = ctx.ws.get_channel(ref) if ref else None
    if ch is None or ((ch.is_private or ch.is_im or ch.is_mpim) and ctx.caller not in ch.members):
        raise SlackError("channel_not_found")
    if writable and ch.is_archived:
        raise SlackError("is_archived")
    if member and ctx.caller not in ch.members:
        raise SlackError("not_in_channel")
    return ch


def message_arg(ch: Channel, ts: Any) -> dict[str, Any]:
    msg = ch.find(str(ts or ""))
    if msg is None:
        raise SlackError("message_not_found")
    return msg


def paginate(items: Sequence[Any], p: Params, default_limit: int = 100) -> tuple[list[Any], dict[str, Any]]:
    """Cursor pagination; the cursor is opaque base64 like Slack's, holding the offset."""
    try:
        limit = int(p.get("limit") or default_limit)
        cursor = str(p.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError) as exc:
        raise SlackError("invalid_cursor") from exc
    limit = max(1, min(limit, 1000))
    page = list(items[start : start + limit])
    nxt = start + limit
    next_cursor = base64.b64encode(f"next:{nxt}".encode()).decode() if nxt < len(items) else ""
    return page, {"next_cursor": next_cursor}
