"""conversations.* methods: channel lifecycle, membership and reading history."""

from __future__ import annotations

import re
import time
from typing import Any

from devkit.slack_emulator.methods.base import (
    Ctx,
    Params,
    SlackError,
    as_list,
    channel_arg,
    flag,
    method,
    paginate,
)
from devkit.slack_emulator.model import Channel, ts_key

_NAME_OK = re.compile(r"^[a-z0-9_-]+$")
_MANAGE = ("channels:manage", "groups:write")
_READ = ("channels:read", "groups:read", "im:read", "mpim:read")
_HISTORY = ("channels:history", "groups:history", "im:history", "mpim:history")


def validate_name(ctx: Ctx, name: str) -> None:
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_OK.match(name):  # upper case counts as a "special" for Slack too
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")
    if ctx.ws.find_channel(name) is not None:  # archived channels keep their name
        raise SlackError("name_taken")


def _channel(ctx: Ctx, ch: Channel, p: Params | None = None) -> dict[str, Any]:
    return {"channel": ch.to_api(ctx.caller, num_members=flag(p or {}, "include_num_members"))}


@method("conversations.create", *_MANAGE)
def create(ctx: Ctx, p: Params) -> dict[str, Any]:
    name = str(p.get("name") or "")
    validate_name(ctx, name)
    ch = ctx.ws.add_channel(
        name, is_private=flag(p, "is_private"), creator=ctx.caller, bot_member=False, members=[ctx.caller]
    )
    return _channel(ctx, ch)


@method("conversations.invite", *_MANAGE)
def invite(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True, writable=True)
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    users = as_list(p.get("users"))
    if not users:
        raise SlackError("no_user")
    errors = [
        {"user": u, "ok": False, "error": "cant_invite_self" if u == ctx.caller else "user_not_found"}
        for u in users
        if u == ctx.caller or u not in ctx.ws.users
    ]
    if errors:
        raise SlackError(errors[0]["error"], errors=errors)
    new = [u for u in dict.fromkeys(users) if u not in ch.members]
    if not new:  # only when every one of them is already in
        raise SlackError(
            "already_in_channel",
            errors=[{"user": u, "ok": False, "error": "already_in_channel"} for u in users],
        )
    ch.members.extend(new)
    return _channel(ctx, ch)


@method("conversations.join", "channels:join")
def join(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, writable=True)
    if ch.is_private or ch.is_im or ch.is_mpim:
        raise SlackError("method_not_supported_for_channel_type")
    if ctx.caller in ch.members:
        return {
            **_channel(ctx, ch),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    ch.members.append(ctx.caller)
    return _channel(ctx, ch)


@method("conversations.info", *_READ)
def info(ctx: Ctx, p: Params) -> dict[str, Any]:
    return _channel(ctx, channel_arg(ctx, p), p)


@method("conversations.members", *_READ)
def members(ctx: Ctx, p: Params) -> dict[str, Any]:
    page, meta = paginate(list(channel_arg(ctx, p).members), p)
    return {"members": page, "response_metadata": meta}


def _in_range(ts: str, p: Params) -> bool:
    key, inclusive = ts_key(ts), flag(p, "inclusive")
    oldest = ts_key(p.get("oldest") or 0)
    latest = ts_key(p.get("latest")) if p.get("latest") else None
    above = key >= oldest if inclusive else key > oldest
    below = latest is None or (key <= latest if inclusive else key < latest)
    return above and below


@method("conversations.history", *_HISTORY)
def history(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True)
    top = [
        m
        for m in reversed(ch.messages)
        if (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")
        and _in_range(m["ts"], p)
    ]
    page, meta = paginate(top, p)
    return {
        "messages": page,
        "has_more": bool(meta["next_cursor"]),
        "pin_count": len(ch.pins),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": meta,
    }


@method("conversations.replies", *_HISTORY)
def replies(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True)
    msg = ch.find(str(p.get("ts") or ""))
    if msg is None:
        raise SlackError("thread_not_found")
    root = msg.get("thread_ts") or msg["ts"]
    thread = [
        m
        for m in ch.messages
        if (m["ts"] == root or m.get("thread_ts") == root) and (m["ts"] == root or _in_range(m["ts"], p))
    ]
    page, meta = paginate(thread, p, default_limit=1000)
    return {"messages": page, "has_more": bool(meta["next_cursor"]), "response_metadata": meta}


@method("conversations.open", "im:write", "mpim:write")
def open_(ctx: Ctx, p: Params) -> dict[str, Any]:
    if p.get("channel"):
        ch = channel_arg(ctx, p)
        return {"no_op": True, "already_open": True, **_channel(ctx, ch)}
    users = [u for u in as_list(p.get("users")) if u != ctx.caller]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 8:
        raise SlackError("too_many_users")
    if any(u not in ctx.ws.users for u in users):
        raise SlackError("user_not_found")
    if len(users) == 1:
        existed = ctx.ws.dm_channel(users[0]) is not None
        ch = ctx.ws.open_dm(users[0])
    else:
        want = {ctx.caller, *users}
        found = [c for c in ctx.ws.channels.values() if c.is_mpim and set(c.members) == want]
        existed = bool(found)
        if found:
            ch = found[0]
        else:
            ch = Channel(
                id=ctx.ws.new_id("G"),
                name="mpdm-" + "--".join(ctx.ws.users[u].name for u in sorted(want)) + "-1",
                creator=ctx.caller,
                created=int(time.time()),
                is_mpim=True,
                is_private=True,
                members=sorted(want),
            )
            ctx.ws.channels[ch.id] = ch
    out: dict[str, Any] = {"channel": ch.to_api(ctx.caller) if flag(p, "return_im") else {"id": ch.id}}
    if existed:
        out.update(no_op=True, already_open=True)
    return out


@method("conversations.list", *_READ)
def list_(ctx: Ctx, p: Params) -> dict[str, Any]:
    types = set(as_list(p.get("types") or "public_channel"))

    def kind(c: Channel) -> str:
        if c.is_im or c.is_mpim:
            return "im" if c.is_im else "mpim"
        return "private_channel" if c.is_private else "public_channel"

    found = [
        c.to_api(ctx.caller)
        for c in ctx.ws.channels.values()
        if kind(c) in types
        and not (flag(p, "exclude_archived") and c.is_archived)
        and (kind(c) == "public_channel" or ctx.caller in c.members)
    ]
    page, meta = paginate(found, p)
    return {"channels": page, "response_metadata": meta}


def _set_meta(ctx: Ctx, p: Params, key: str) -> Channel:
    ch = channel_arg(ctx, p, member=True, writable=True)
    value = str(p.get(key) or "")
    if len(value) > 250:
        raise SlackError("too_long")
    setattr(ch, key, {"value": value, "creator": ctx.caller, "last_set": int(time.time())})
    return ch


@method("conversations.setTopic", *_MANAGE)
def set_topic(ctx: Ctx, p: Params) -> dict[str, Any]:
    return _channel(ctx, _set_meta(ctx, p, "topic"))


@method("conversations.setPurpose", *_MANAGE)
def set_purpose(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = _set_meta(ctx, p, "purpose")
    return {**_channel(ctx, ch), "purpose": ch.purpose["value"]}


@method("conversations.archive", *_MANAGE)
def archive(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True)
    if ch.is_archived:
        raise SlackError("already_archived")
    if ch.is_general:
        raise SlackError("cant_archive_general")
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    ch.is_archived = True
    return {}
