"""views.*: modals (a per-user stack opened with a fresh trigger_id) and App Home tabs."""

from __future__ import annotations

import time
from typing import Any

from devkit.slack_emulator.methods.base import Ctx, Params, SlackError, json_arg, method
from devkit.slack_emulator.state import Workspace

MAX_STACK = 3


def _view_arg(p: Params, *types: str) -> dict[str, Any]:
    view = json_arg(p, "view")
    if not isinstance(view, dict) or view.get("type") not in types:
        raise SlackError("invalid_arguments")
    if view["type"] == "modal" and not view.get("title"):
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing title"]})
    return view


def _trigger_user(ctx: Ctx, p: Params) -> str:
    issued = ctx.ws.triggers.get(str(p.get("trigger_id") or ""))
    if issued is None:
        raise SlackError("invalid_trigger_id")
    if time.monotonic() - issued[1] > ctx.trigger_ttl:  # Slack's trigger_ids live 3 seconds
        raise SlackError("expired_trigger_id")
    return issued[0]


def build_view(
    ws: Workspace,
    view: dict[str, Any],
    *,
    view_id: str | None = None,
    root: str | None = None,
    previous: str | None = None,
) -> dict[str, Any]:
    vid = view_id or ws.new_id("V")
    return {
        **view,
        "id": vid,
        "team_id": ws.team_id,
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{ws.new_id('h')[2:]}",
        "clear_on_close": False,
        "notify_on_close": False,
        "root_view_id": root or vid,
        "previous_view_id": previous,
        "app_id": ws.app_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }


def apply_submission_ack(ws: Workspace, user: str, view_id: str, ack: dict[str, Any] | None) -> None:
    """What Slack does with the modal stack after the app acks a view_submission."""
    with ws.lock:
        stack = ws.modal_stacks.setdefault(user, [])
        action = (ack or {}).get("response_action")
        if action == "errors" or view_id not in stack:
            return
        if action == "clear":
            stack.clear()
        elif action == "update" and isinstance(ack, dict):
            old = ws.views[view_id]
            ws.views[view_id] = build_view(
                ws, ack["view"], view_id=view_id, root=old["root_view_id"], previous=old["previous_view_id"]
            )
        elif action == "push" and isinstance(ack, dict) and len(stack) < MAX_STACK:
            rec = build_view(ws, ack["view"], root=stack[0], previous=stack[-1])
            ws.views[rec["id"]], ws.view_owner[rec["id"]] = rec, user
            stack.append(rec["id"])
        else:  # a plain ack closes the submitted view
            stack.remove(view_id)


@method("views.open")
def views_open(ctx: Ctx, p: Params) -> dict[str, Any]:
    view = _view_arg(p, "modal")
    user = _trigger_user(ctx, p)
    rec = build_view(ctx.ws, view)
    ctx.ws.views[rec["id"]], ctx.ws.view_owner[rec["id"]] = rec, user
    ctx.ws.modal_stacks[user] = [rec["id"]]
    return {"view": rec}


@method("views.push")
def views_push(ctx: Ctx, p: Params) -> dict[str, Any]:
    view = _view_arg(p, "modal")
    user = _trigger_user(ctx, p)
    stack = ctx.ws.modal_stacks.setdefault(user, [])
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    rec = build_view(ctx.ws, view, root=stack[0] if stack else None, previous=stack[-1] if stack else None)
    ctx.ws.views[rec["id"]], ctx.ws.view_owner[rec["id"]] = rec, user
    stack.append(rec["id"])
    return {"view": rec}


@method("views.update")
def views_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    view = _view_arg(p, "modal", "home")
    vid = str(p.get("view_id") or "")
    if not vid and p.get("external_id"):
        vid = next((v["id"] for v in ctx.ws.views.values() if v["external_id"] == p["external_id"]), "")
    old = ctx.ws.views.get(vid)
    if old is None:
        raise SlackError("not_found")
    if p.get("hash") and p["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    rec = build_view(ctx.ws, view, view_id=vid, root=old["root_view_id"], previous=old["previous_view_id"])
    ctx.ws.views[vid] = rec
    return {"view": rec}


@method("views.publish")
def views_publish(ctx: Ctx, p: Params) -> dict[str, Any]:
    view = _view_arg(p, "home")
    user = str(p.get("user_id") or "")
    if user not in ctx.ws.users:
        raise SlackError("user_not_found")
    old = ctx.ws.home_views.get(user)
    if old and p.get("hash") and p["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    rec = build_view(ctx.ws, view, view_id=old["id"] if old else None)
    ctx.ws.home_views[user] = ctx.ws.views[rec["id"]] = rec
    return {"view": rec}
