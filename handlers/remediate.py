"""The `/remediate` command and its Confirm / Cancel buttons. Thin: parse, call bot.remediation, render.

Parsing needs no network, so a mistake is answered in the ack itself (ephemeral) and nothing runs.
After the ack the current state is read and the preview posted in the channel with signed buttons.
A click is acknowledged at once; the decision (verify → role → single-use claim → apply) follows,
and the preview message is updated in place to its settled state without buttons. Refusals go
only to the person who clicked, saying why and who may.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.diagnostics.base import UsageError
from bot.i18n import _, use_language
from bot.ports import ChatError
from bot.remediation import flows, permissions
from bot.remediation.tokens import Claims
from bot.runtime import Runtime
from bot.slack.blocks.diagnostics import escape
from bot.slack.blocks.remediation import (
    CANCEL_ACTION,
    CONFIRM_ACTION,
    not_a_member_note,
    refusal_text,
    render_applying,
    render_preview,
    render_settled,
    request_refusal_text,
)
from bot.slack.gateway import SlackGateway
from bot.slack.locale import known_language_for
from handlers.diag import admitted
from handlers.faults import NOTHING_CHANGED, Attempt

log = logging.getLogger(__name__)

# Errors meaning "the bot may not post here": the preview goes to the requester through response_url.
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}


# ------------------------------------------------------------------------------ the command
def handle_command(
    runtime: Runtime, body: dict[str, Any], ack: Ack, respond: Respond, client: WebClient
) -> None:
    user_id, channel_id = body["user_id"], body.get("channel_id", "")
    # Help and mistakes go in the ack, to the asker alone: their language if already known.
    with use_language(known_language_for(client, user_id)):
        try:
            parsed = flows.parse(runtime.policy, body.get("text") or "")
        except UsageError as exc:
            ack(text=escape(str(exc)))
            return
        if isinstance(parsed, flows.Help):
            ack(text=escape(parsed.text))
            return
    ack()
    if not admitted(runtime, respond, user_id, channel_id, f"/remediate {parsed.text}", client):
        return
    _propose(runtime, parsed, user_id, channel_id, respond, client)


def _propose(
    runtime: Runtime,
    parsed: flows.Request,
    user_id: str,
    channel_id: str,
    respond: Respond,
    client: WebClient,
) -> None:
    """Read the current state and post the preview with its buttons (or tell the requester why not)."""
    attempt = Attempt()
    try:
        started = flows.request(runtime, parsed, actor=user_id, channel_id=channel_id)
    except UsageError as exc:  # input only the engine could judge, e.g. a deployment that does not exist
        respond(text=escape(str(exc)), response_type="ephemeral")
        return
    except Exception as exc:
        log.exception("/remediate %s failed", parsed.text)
        trouble = attempt.trouble(exc, NOTHING_CHANGED)
        respond(text=trouble or _("Something went wrong preparing `/remediate {command}`; it is logged. "
                "Nothing was changed.", command=parsed.text), response_type="ephemeral")  # fmt: skip
        return
    if started.status == "refused":
        respond(text=request_refusal_text(started.code, started.message), response_type="ephemeral")
        return
    if started.status == "error" or started.proposal is None:
        respond(
            text=_(
                "❌ Could not read the current state for `/remediate {command}`: {reason}. Nothing was changed.",
                command=escape(parsed.text),
                reason=escape(started.message),
            ),
            response_type="ephemeral",
        )
        return
    text, blocks = render_preview(started.proposal, permissions.remediators(runtime.policy))
    try:
        SlackGateway(client).post(channel_id, text, blocks)
    except ChatError as exc:
        if exc.code not in CANNOT_POST:
            log.warning("posting the /remediate preview failed: %s", exc.code)
        respond(text=text, blocks=[*blocks[:-1], not_a_member_note(), blocks[-1]], response_type="ephemeral")


# ------------------------------------------------------------------------------ the buttons
class Click:
    """One button press: who, where, which message, and how to answer privately or update it."""

    def __init__(self, body: dict[str, Any], client: WebClient, respond: Respond):
        self.body, self.slack, self.respond = body, SlackGateway(client), respond
        container = body.get("container") or {}
        self.user: str = body["user"]["id"]
        self.channel: str = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        self.ts: str | None = container.get("message_ts") or (body.get("message") or {}).get("ts")
        self.ephemeral: bool = bool(container.get("is_ephemeral"))
        self.blocks: list[dict[str, Any]] = list((body.get("message") or {}).get("blocks") or [])
        self.token: str = str((body.get("actions") or [{}])[0].get("value") or "")

    @property
    def title(self) -> str:
        head = next((b for b in self.blocks if b.get("type") == "header"), None)
        return str(((head or {}).get("text") or {}).get("text") or _("Remediation"))

    def update(self, text: str, blocks: list[dict[str, Any]]) -> None:
        try:
            if self.ephemeral or not self.ts:
                self.respond(text=text, blocks=blocks, replace_original=True)
            else:
                self.slack.update(self.channel, self.ts, text, blocks)
        except Exception:
            log.warning("could not update the /remediate preview", exc_info=True)

    def tell(self, text: str) -> None:
        """Only the person who clicked sees it; in a DM or without membership, a DM."""
        try:
            if self.channel and not self.channel.startswith("D"):
                try:
                    self.slack.post_ephemeral(self.channel, self.user, text)
                    return
                except ChatError as exc:
                    if exc.code not in ("user_not_in_channel", *CANNOT_POST):
                        raise
            self.slack.post(self.user, text)
        except Exception:
            log.warning("could not answer a /remediate click", exc_info=True)


def _finish(click: Click, decision: flows.Decision) -> None:
    if decision.final:
        click.update(*render_settled(decision, click.blocks))
    if decision.status == "refused":
        click.tell(refusal_text(decision))


def handle_confirm(runtime: Runtime, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    click = Click(body, client, respond)

    def applying(claims: Claims) -> None:
        click.update(*render_applying(click.blocks, click.user, click.title))

    try:
        decision = flows.confirm(
            runtime, click.token, actor=click.user, channel_id=click.channel, on_confirmed=applying
        )
    except Exception:
        log.exception("confirming a remediation failed")
        click.tell(_("Something went wrong confirming this remediation; it is logged. Check the audit log "
                     "and `/diag` before trying again."))  # fmt: skip
        return
    _finish(click, decision)
    follow_up = decision.applied.follow_up if decision.applied else ""
    if follow_up and decision.claims is not None:
        # The second step of a two-step procedure: its own preview and Confirm, on the requester's behalf.
        parsed = flows.parse(runtime.policy, follow_up)
        if isinstance(parsed, flows.Request):
            _propose(runtime, parsed, decision.claims.requester, click.channel, click.respond, client)


def handle_cancel(runtime: Runtime, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    click = Click(body, client, respond)
    try:
        decision = flows.cancel(runtime, click.token, actor=click.user, channel_id=click.channel)
    except Exception:
        log.exception("cancelling a remediation failed")
        click.tell(_("Something went wrong cancelling this remediation; it is logged."))
        return
    _finish(click, decision)


def register(app: App, runtime: Runtime) -> None:
    @app.command("/remediate")
    def remediate_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_command(runtime, body, ack, respond, client)

    @app.action(CONFIRM_ACTION)
    def remediate_confirm(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        handle_confirm(runtime, body, client, respond)

    @app.action(CANCEL_ACTION)
    def remediate_cancel(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        handle_cancel(runtime, body, client, respond)
