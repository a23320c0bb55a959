"""Events: pinned messages and :pushpin: reactions go on the timeline; App Home lists open incidents."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.i18n import _, use_language
from bot.incidents import flows, service
from bot.incidents.timeline import EventKind
from bot.incidents.views import status_word
from bot.runtime import Runtime
from bot.slack.blocks.incident import home_view
from bot.slack.gateway import SlackGateway
from bot.slack.locale import language_for
from bot.text import escape

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    @app.event("pin_added")
    def pin_added(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        message = item.get("message") or {}
        ts = message.get("ts") or item.get("ts")
        channel = event.get("channel_id") or item.get("channel")
        if ts and channel:
            flows.record_message(runtime, channel, ts, event.get("user", "unknown"), EventKind.PIN)

    @app.event("reaction_added")
    def reaction_added(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != "pushpin" or item.get("type") != "message":
            return
        flows.record_message(
            runtime, item["channel"], item["ts"], event.get("user", "unknown"), EventKind.REACTION
        )

    @app.event("member_joined_channel")
    def member_joined(event: dict[str, Any], client: WebClient) -> None:
        with runtime.session() as session:
            incident = service.by_channel(session, event.get("channel", ""))
            if incident is None:
                return
            view = service.view(session, incident)
        with use_language(language_for(client, event["user"])):
            welcome = _(
                "Welcome to {ref} ({severity}, {status}): {title}. "
                "The pinned summary has the state; `/incident timeline` has the story so far.",
                ref=view.handle,
                severity=view.severity_tag,
                status=status_word(view.status),
                title=escape(view.title),
            )
        SlackGateway(client).post_ephemeral(event["channel"], event["user"], welcome)

    @app.event("app_home_opened")
    def app_home(event: dict[str, Any], client: WebClient) -> None:
        with runtime.session() as session:
            views = [service.view(session, incident) for incident in service.open_incidents(session)]
        with use_language(language_for(client, event["user"])):
            home = home_view(views)
        SlackGateway(client).publish_home(event["user"], home)

    @app.event("message")
    def ignore_messages() -> None:
        """Messages are read on demand (pins, reactions); acknowledging them keeps Slack from retrying."""
