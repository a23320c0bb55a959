"""chat.* methods, with the Block Kit limits that make real Slack reject a message."""

from __future__ import annotations

import json
from typing import Any

from devkit.slack_emulator.methods.base import (
    Ctx,
    Params,
    SlackError,
    channel_arg,
    flag,
    json_arg,
    message_arg,
    method,
)
from devkit.slack_emulator.model import Channel

MAX_BLOCKS, HEADER_MAX, SECTION_MAX, FIELD_MAX = 50, 150, 3000, 2000
MESSAGE_BLOCKS_MAX, TEXT_MAX = 12000, 40000


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def validate_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
        raise SlackError("invalid_blocks", errors=["must be a list of objects with a type"])
    if len(blocks) > MAX_BLOCKS:
        raise SlackError(
            "invalid_blocks", errors=[f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"]
        )
    for i, block in enumerate(blocks):
        text = _text_of(block.get("text"))
        fields = block.get("fields") or []
        if block["type"] == "header" and len(text) > HEADER_MAX:
            raise SlackError(
                "invalid_blocks",
                errors=[
                    f"must be less than {HEADER_MAX + 1} characters [json-pointer:/blocks/{i}/text/text]"
                ],
            )
        if block["type"] == "section" and (
            len(text) > SECTION_MAX or len(fields) > 10 or any(len(_text_of(f)) > FIELD_MAX for f in fields)
        ):
            raise SlackError("invalid_blocks", errors=[f"section too long [json-pointer:/blocks/{i}]"])
    # Slack's real limit is on the serialized message; ~12k characters is where it starts refusing.
    if len(json.dumps(blocks, ensure_ascii=False)) > MESSAGE_BLOCKS_MAX:
        raise SlackError("msg_blocks_too_long")


def content(p: Params, *, required: bool = True) -> dict[str, Any]:
    """text/blocks/attachments of a message; blocks and attachments may arrive as JSON strings."""
    text, blocks, attachments = str(p.get("text") or ""), json_arg(p, "blocks"), json_arg(p, "attachments")
    if required and not (text or blocks or attachments):
        raise SlackError("no_text")
    if len(text) > TEXT_MAX:
        raise SlackError("msg_too_long")
    if blocks:
        validate_blocks(blocks)
    out: dict[str, Any] = {"text": text, "blocks": blocks or None}
    if attachments:
        out["attachments"] = attachments
    if p.get("metadata"):
        out["metadata"] = json_arg(p, "metadata")
    return out


def target(ctx: Ctx, p: Params) -> Channel:
    """A channel to write to: a user id means the bot's DM with that user."""
    ref = str(p.get("channel") or "")
    if ref[:1] in ("U", "W") and ref in ctx.ws.users:
        return ctx.ws.open_dm(ref)
    ch = channel_arg(ctx, p, writable=True)
    if ctx.caller not in ch.members and "chat:write.public" not in ctx.scopes:
        raise SlackError("not_in_channel")
    return ch


@method("chat.postMessage", "chat:write")
def post_message(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch, body = target(ctx, p), content(p)
    extra = {k: v for k, v in body.items() if k not in ("text", "blocks")}
    msg = ctx.ws.post(
        ch,
        ctx.caller,
        text=body["text"],
        blocks=body["blocks"],
        extra=extra,
        thread_ts=p.get("thread_ts") or None,
        broadcast=flag(p, "reply_broadcast"),
    )
    return {"channel": ch.id, "ts": msg["ts"], "message": dict(msg)}


@method("chat.update", "chat:write")
def update(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, writable=True)
    msg = message_arg(ch, p.get("ts"))
    if msg.get("user") != ctx.caller:
        raise SlackError("cant_update_message")
    body = content(p, required=False)
    if "text" in p:
        msg["text"] = body["text"]
    if "blocks" in p:
        msg.pop("blocks", None)
        if body["blocks"]:
            msg["blocks"] = body["blocks"]
    if "attachments" in p:
        msg["attachments"] = body.get("attachments") or []
    msg["edited"] = {"user": ctx.caller, "ts": ctx.ws.new_ts()}
    return {"channel": ch.id, "ts": msg["ts"], "text": msg["text"], "message": dict(msg)}


@method("chat.delete", "chat:write")
def delete(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p)
    msg = message_arg(ch, p.get("ts"))
    if msg.get("user") != ctx.caller:
        raise SlackError("cant_delete_message")
    ch.messages.remove(msg)
    parent = ch.find(msg.get("thread_ts") or "") if msg.get("thread_ts") != msg["ts"] else None
    if parent is not None and parent.get("reply_count"):
        parent["reply_count"] -= 1
    return {"channel": ch.id, "ts": msg["ts"]}


@method("chat.postEphemeral", "chat:write")
def post_ephemeral(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch, body = target(ctx, p), content(p)
    user = str(p.get("user") or "")
    if user not in ctx.ws.users:
        raise SlackError("user_not_found")
    if user not in ch.members:
        raise SlackError("user_not_in_channel")
    ts = ctx.ws.new_ts()
    ctx.ws.ephemeral_messages.append(
        {
            **body,
            "channel": ch.id,
            "user": user,
            "ts": ts,
            "thread_ts": p.get("thread_ts") or None,
            "via": "chat.postEphemeral",
        }
    )
    return {"message_ts": ts}


@method("chat.getPermalink")
def get_permalink(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p)
    msg = message_arg(ch, p.get("message_ts"))
    link = f"https://{ctx.ws.domain}.slack.com/archives/{ch.id}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]:
        link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
    return {"channel": ch.id, "permalink": link}
