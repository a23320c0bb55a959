"""Who-is-who methods: auth.test, team.info, users.* and usergroups.*."""

from __future__ import annotations

import time
from typing import Any

from devkit.slack_emulator.methods.base import Ctx, Params, SlackError, flag, method, paginate


@method("auth.test")
def auth_test(ctx: Ctx, p: Params) -> dict[str, Any]:
    user = ctx.ws.users[ctx.caller]
    out: dict[str, Any] = {
        "url": f"https://{ctx.ws.domain}.slack.com/",
        "team": ctx.ws.team_name,
        "user": user.name,
        "team_id": ctx.ws.team_id,
        "user_id": user.id,
        "is_enterprise_install": False,
    }
    if user.bot_id:
        out["bot_id"] = user.bot_id
    return out


@method("team.info", "team:read")
def team_info(ctx: Ctx, p: Params) -> dict[str, Any]:
    ws = ctx.ws
    return {
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "domain": ws.domain,
            "email_domain": "example.com",
            "url": f"https://{ws.domain}.slack.com/",
            "is_verified": False,
            "icon": {"image_default": True, "image_68": "https://avatars.example/team_68.png"},
        }
    }


@method("users.info", "users:read")
def users_info(ctx: Ctx, p: Params) -> dict[str, Any]:
    user = ctx.ws.users.get(str(p.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    # Like Slack: the locale only when asked for (include_locale=true).
    return {"user": user.to_api(ctx.ws.team_id, include_locale=flag(p, "include_locale"))}


@method("users.list", "users:read")
def users_list(ctx: Ctx, p: Params) -> dict[str, Any]:
    everyone = [u.to_api(ctx.ws.team_id) for u in ctx.ws.users.values()]
    page, meta = paginate(everyone, p, default_limit=200)
    return {"members": page, "cache_ts": int(time.time()), "response_metadata": meta}


@method("users.lookupByEmail", "users:read.email")
def lookup_by_email(ctx: Ctx, p: Params) -> dict[str, Any]:
    email = str(p.get("email") or "").lower()
    user = next((u for u in ctx.ws.users.values() if u.email.lower() == email and email), None)
    if user is None:
        raise SlackError("users_not_found")
    return {"user": user.to_api(ctx.ws.team_id)}


@method("usergroups.list", "usergroups:read")
def usergroups_list(ctx: Ctx, p: Params) -> dict[str, Any]:
    groups = [
        g.to_api(ctx.ws.team_id, include_users=flag(p, "include_users")) for g in ctx.ws.usergroups.values()
    ]
    return {"usergroups": groups}


@method("usergroups.users.list", "usergroups:read")
def usergroup_users(ctx: Ctx, p: Params) -> dict[str, Any]:
    group = ctx.ws.usergroups.get(str(p.get("usergroup") or ""))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}
