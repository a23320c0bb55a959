"""The external upload flow (getUploadURLExternal → POST bytes → completeUploadExternal) and files.info."""

from __future__ import annotations

import time
from typing import Any

from devkit.slack_emulator.methods.base import Ctx, Params, SlackError, as_list, channel_arg, json_arg, method
from devkit.slack_emulator.model import File


@method("files.getUploadURLExternal", "files:write")
def get_upload_url(ctx: Ctx, p: Params) -> dict[str, Any]:
    name, length = str(p.get("filename") or ""), str(p.get("length") or "")
    if not name or not length.isdigit():
        raise SlackError("invalid_arguments")
    f = File(id=ctx.ws.new_id("F"), name=name, user=ctx.caller, created=int(time.time()))
    ctx.ws.files[f.id] = f
    return {"upload_url": f"{ctx.base_url}upload/v1/{f.id}", "file_id": f.id}


@method("files.completeUploadExternal", "files:write")
def complete_upload(ctx: Ctx, p: Params) -> dict[str, Any]:
    wanted = json_arg(p, "files")
    if not isinstance(wanted, list) or not wanted:
        raise SlackError("invalid_arguments")
    refs = as_list(p.get("channels")) or ([str(p["channel_id"])] if p.get("channel_id") else [])
    channels = [channel_arg(ctx, {"channel": ref}, member=True, writable=True) for ref in refs]
    files = []
    for item in wanted:
        f = ctx.ws.files.get(str(item.get("id")))
        if f is None or not f.uploaded or f.user != ctx.caller:
            raise SlackError("file_not_found")
        f.title = str(item.get("title") or f.title or f.name)
        files.append(f)
    for ch in channels:
        for f in files:
            f.channels.append(ch.id)
        ctx.ws.post(
            ch,
            ctx.caller,
            text=str(p.get("initial_comment") or ""),
            thread_ts=p.get("thread_ts"),
            extra={"files": [f.to_api(ctx.base_url) for f in files], "upload": True},
        )
    return {"files": [f.to_api(ctx.base_url) for f in files]}


@method("files.info", "files:read")
def files_info(ctx: Ctx, p: Params) -> dict[str, Any]:
    f = ctx.ws.files.get(str(p.get("file") or ""))
    if f is None or not f.uploaded:
        raise SlackError("file_not_found")
    return {"file": f.to_api(ctx.base_url), "comments": [], "response_metadata": {"next_cursor": ""}}
