"""The `/diag` command: parse in the ack, post "running…" at once, run, update the message with the result.

Parsing needs no network, so a mistake is answered in the ack itself (ephemeral) and nothing
runs. Where the bot cannot post (not a member, a DM it is not part of) the whole exchange falls
back to the command's response_url, which Slack lets any command answer, ephemerally.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import access
from bot.audit.record import record_diagnostic
from bot.diagnostics import flows
from bot.diagnostics.base import UsageError
from bot.i18n import _, use_language
from bot.ports import ChatError
from bot.runtime import Runtime
from bot.slack.blocks.diagnostics import Rendered, escape, note_blocks, render, render_message, render_running
from bot.slack.gateway import SlackGateway
from bot.slack.locale import known_language_for, language_for

log = logging.getLogger(__name__)

# Errors meaning "the bot may not post here": answer through response_url instead.
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}


class Reply:
    """One visible message for the run: a channel message when possible, else an ephemeral one."""

    def __init__(self, client: WebClient, respond: Respond, channel_id: str):
        self.slack, self.respond, self.channel_id = SlackGateway(client), respond, channel_id
        self.ts: str | None = None

    @property
    def in_channel(self) -> bool:
        return self.ts is not None

    def start(self, message: Rendered) -> None:
        try:
            self.ts = self.slack.post(self.channel_id, message.text, message.blocks).ts
        except ChatError as exc:
            # not_in_channel and friends are expected; anything else still deserves an answer somewhere.
            if exc.code not in CANNOT_POST:
                log.warning("posting the /diag placeholder failed: %s", exc.code)
            self.respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    def finish(self, message: Rendered) -> None:
        if self.ts is None:
            self.respond(
                text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True
            )
            return
        try:
            self.slack.update(self.channel_id, self.ts, message.text, message.blocks)
        except ChatError as exc:
            # The blocks were refused (e.g. msg_blocks_too_long): the text alone still tells the story.
            log.warning("chat.update of /diag result failed: %s", exc.code)
            self.slack.update(self.channel_id, self.ts, message.text, [])


def _attach(runtime: Runtime, reply: Reply, message: Rendered) -> Rendered:
    """Upload the full output when the message holds only a preview; say so when that is impossible."""
    upload = message.file
    if upload is None:
        return message
    if not reply.in_channel:
        note = _(
            "The full output is too long for an ephemeral message: invite the bot to this channel to get it as a file."
        )
        return Rendered(message.text, [*message.blocks[:-1], *note_blocks(note), message.blocks[-1]], None)
    try:
        runtime.files.upload(reply.channel_id, upload.filename, upload.title, upload.content, upload.comment)
    except Exception:
        log.exception("upload of /diag output failed")
        return Rendered(
            message.text,
            [*message.blocks, *note_blocks(_("The full output could not be attached (upload failed)."))],
        )
    return message


def admitted(
    runtime: Runtime,
    respond: Respond,
    user_id: str,
    channel_id: str,
    command: str,
    client: WebClient | None = None,
) -> bool:
    """The access policy's verdict; a refusal is answered to the person alone, in their language."""
    try:
        with use_language(language_for(client, user_id) if client is not None else None):
            verdict = access.admit(runtime, user_id, channel_id, command)
    except Exception:
        log.exception("checking access for %s failed", command.split()[0])
        respond(text=_("Could not check who may run this just now (it is logged); nothing ran. Try again."),
                response_type="ephemeral")  # fmt: skip
        return False
    if not verdict.allowed:
        respond(text=verdict.reason, response_type="ephemeral")
    return verdict.allowed


def handle(runtime: Runtime, body: dict[str, Any], ack: Ack, respond: Respond, client: WebClient) -> None:
    text = body.get("text") or ""
    user_id, channel_id = body["user_id"], body.get("channel_id", "")
    # Answers inside the ack (help, a mistake) are the asker's alone: their language if already known
    # (no Slack call before the ack); the run itself posts to the room, in the workspace's language.
    with use_language(known_language_for(client, user_id)):
        try:
            command = flows.parse(runtime.policy, text)
        except UsageError as exc:
            ack(text=escape(str(exc)))
            return
        if command.kind == "help":
            ack(text=escape(command.help))
            return
    ack()
    if not admitted(runtime, respond, user_id, channel_id, f"/diag {command.text}", client):
        return
    reply = Reply(client, respond, channel_id)
    try:
        reply.start(render_running(command.text))
        result = flows.run(runtime.policy, command)
    except UsageError as exc:  # input only the engine could judge, e.g. a name that does not exist
        reply.finish(render_message(str(exc)))
        return
    except Exception:
        log.exception("/diag %s failed", command.text)
        reply.finish(
            render_message(
                _("Something went wrong running `/diag {command}`; it is logged.", command=command.text)
            )
        )
        return
    message = render(result, actor=user_id)
    try:
        record_diagnostic(runtime, result, actor=user_id, channel_id=channel_id)
    except Exception:
        # The findings are still worth showing; the missing record must not go unnoticed either.
        log.exception("recording /diag %s failed", command.text)
        message = Rendered(
            message.text,
            [*message.blocks, *note_blocks(_("⚠️ This run could not be written to the audit log."))],
            message.file,
        )
    reply.finish(_attach(runtime, reply, message))
    _charts(runtime, reply, result)


def _charts(runtime: Runtime, reply: Reply, result: Any) -> None:
    """Charts (`/diag prom trend`) go to the channel as images; their numbers are in the message already."""
    charts = getattr(result, "charts", None) or []
    if not charts or not reply.in_channel:
        return
    for filename, png in charts:
        try:
            comment = _(
                "📈 `/diag {command}` — min/max/last are in the message above", command=result.command
            )
            runtime.files.upload(reply.channel_id, filename, f"/diag {result.command}", png, comment)
        except Exception:
            log.exception("upload of a /diag chart failed")


def register(app: App, runtime: Runtime) -> None:
    @app.command("/diag")
    def diag_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle(runtime, body, ack, respond, client)
