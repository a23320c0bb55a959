"""pins.* and reactions.*: things attached to a message."""

from __future__ import annotations

import time
from typing import Any

from devkit.slack_emulator.methods.base import Ctx, Params, SlackError, channel_arg, message_arg, method


@method("pins.add", "pins:write")
def pins_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True, writable=True)
    msg = message_arg(ch, p.get("timestamp"))
    if any(pin["ts"] == msg["ts"] for pin in ch.pins):
        raise SlackError("already_pinned")
    ch.pins.append({"ts": msg["ts"], "created_by": ctx.caller, "created": int(time.time())})
    msg["pinned_to"] = [ch.id]
    return {}


@method("pins.remove", "pins:write")
def pins_remove(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, member=True)
    msg = message_arg(ch, p.get("timestamp"))
    pin = next((pin for pin in ch.pins if pin["ts"] == msg["ts"]), None)
    if pin is None:
        raise SlackError("no_pin")
    ch.pins.remove(pin)
    msg.pop("pinned_to", None)
    return {}


@method("pins.list", "pins:read")
def pins_list(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p)
    items = [
        {
            "type": "message",
            "created": pin["created"],
            "created_by": pin["created_by"],
            "channel": ch.id,
            "message": dict(ch.find(pin["ts"]) or {"ts": pin["ts"]}),
        }
        for pin in ch.pins
    ]
    return {"items": items}


@method("reactions.add", "reactions:write")
def reactions_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p, writable=True)
    name = str(p.get("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    msg = message_arg(ch, p.get("timestamp"))
    if not ctx.ws.add_reaction(ch.id, msg["ts"], name, ctx.caller):
        raise SlackError("already_reacted")
    return {}


@method("reactions.get", "reactions:read")
def reactions_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    ch = channel_arg(ctx, p)
    msg = message_arg(ch, p.get("timestamp"))
    return {"type": "message", "channel": ch.id, "message": dict(msg)}
