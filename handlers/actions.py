"""Buttons: Acknowledge (summary and page DM), Status update, Resolve, checklist ticks."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.i18n import _, use_language
from bot.incidents import flows
from bot.incidents.service import IncidentError
from bot.incidents.views import status_word
from bot.logs import bind_incident
from bot.ports import ChatError
from bot.runtime import Runtime
from bot.slack.blocks.incident import ACK_ACTION, CHECKLIST_ACTION, RESOLVE_ACTION, STATUS_ACTION
from bot.slack.blocks.modals import status_view
from bot.slack.gateway import SlackGateway
from bot.slack.locale import language_for
from bot.text import escape
from handlers import lifecycle
from handlers.faults import NOTHING_CHANGED, Attempt

log = logging.getLogger(__name__)


def _ephemeral(client: WebClient, body: dict[str, Any], text: str) -> None:
    """Tell only the person who clicked; in a DM a plain message is the only way."""
    text = escape(text)
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    slack = SlackGateway(client)
    try:
        if channel and not channel.startswith("D"):
            try:
                slack.post_ephemeral(channel, user, text)
                return
            except ChatError as exc:
                # Someone previewing a public channel can click without being a member.
                if exc.code != "user_not_in_channel":
                    raise
        slack.post(user, text)
    except Exception:
        log.warning("could not answer a button press", exc_info=True)


def _tell_trouble(client: WebClient, body: dict[str, Any], attempt: Attempt, exc: Exception) -> None:
    """A click the database failed: the clicker is told what did not happen; anything else is a bug."""
    trouble = attempt.trouble(exc, NOTHING_CHANGED)
    if trouble is None:
        raise exc
    log.warning("button press failed on the database: %s", exc)
    _ephemeral(client, body, trouble)


def _value(body: dict[str, Any]) -> str:
    return body["actions"][0].get("value") or ""


def register(app: App, runtime: Runtime) -> None:
    def status_button(change: str):  # type: ignore[no-untyped-def]
        def handle(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            bind_incident(int(_value(body)))
            with use_language(language_for(client, body["user"]["id"])):
                press(body, client)

        def press(body: dict[str, Any], client: WebClient) -> None:
            attempt = Attempt()
            try:
                incident_id, actor = int(_value(body)), body["user"]["id"]
                where = (
                    (body.get("channel") or {}).get("id")
                    or (body.get("container") or {}).get("channel_id")
                    or ""
                )
                verb = "resolve" if change == "resolved" else "ack"
                via = lifecycle.guard(runtime, client, incident_id, actor, verb, where)
                view = flows.change_status(runtime, incident_id, actor, change)
                lifecycle.note_outside(runtime, incident_id, actor, lifecycle.DONE[change], via)
                if (body.get("channel") or {}).get("id", "").startswith("D"):
                    room = f"<#{view.channel_id}>" if view.channel_id else _("Its room is being set up.")
                    _ephemeral(
                        client,
                        body,
                        _(
                            "Thanks — {ref} is {status}. {room}",
                            ref=view.handle,
                            status=status_word(view.status),
                            room=room,
                        ),
                    )
            except IncidentError as exc:
                # A second click lands here ("already acknowledged"): nothing changes, the clicker is told.
                _ephemeral(client, body, str(exc))
            except Exception as exc:
                _tell_trouble(client, body, attempt, exc)

        return handle

    app.action(ACK_ACTION)(status_button("acknowledged"))
    app.action(RESOLVE_ACTION)(status_button("resolved"))

    @app.action(STATUS_ACTION)
    def status_update(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with use_language(language_for(client, body["user"]["id"])):
            view = status_view(int(_value(body)))
        SlackGateway(client).open_view(body["trigger_id"], view)

    @app.action(CHECKLIST_ACTION)
    def checklist(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        incident_id, _colon, position = _value(body).partition(":")
        bind_incident(int(incident_id))
        with use_language(language_for(client, body["user"]["id"])):
            attempt = Attempt()
            try:
                flows.tick_checklist(runtime, int(incident_id), int(position), body["user"]["id"])
            except IncidentError as exc:
                _ephemeral(client, body, str(exc))
            except Exception as exc:
                _tell_trouble(client, body, attempt, exc)
