"""Modals: the declare form (`/incident` alone) and the status-update form (summary button)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.config.policy import SEVERITY_KEYS
from bot.i18n import N_
from bot.incidents import flows
from bot.incidents.service import IncidentError, validate_title
from bot.incidents.timeline import EventKind
from bot.runtime import Runtime
from bot.slack.blocks.incident import declare_answer
from bot.slack.blocks.modals import DECLARE_CALLBACK, STATUS_CALLBACK, declare_view
from bot.slack.gateway import SlackGateway
from handlers.faults import NOT_DECLARED, Attempt, Outcome

log = logging.getLogger(__name__)


def open_declare_modal(
    runtime: Runtime, client: WebClient, trigger_id: str, origin_channel: str | None
) -> None:
    SlackGateway(client).open_view(trigger_id, declare_view(runtime.policy, origin_channel))


def _value(state: dict[str, Any], block: str) -> str:
    element = state.get("values", {}).get(block, {}).get("value", {})
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value", "")
    return element.get("value") or ""


def register(app: App, runtime: Runtime) -> None:
    @app.view(DECLARE_CALLBACK)
    def declare_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        severity = _value(view["state"], "severity")
        title = _value(view["state"], "title")
        kind = _value(view["state"], "incident_type")  # the Type select; "none" or absent: ordinary
        try:
            validate_title(title)
        except IncidentError as exc:
            ack(response_action="errors", errors={"title": str(exc)})
            return
        if severity not in SEVERITY_KEYS:
            ack(response_action="errors", errors={"severity": "Choose a severity."})
            return
        ack()
        user_id = body["user"]["id"]
        attempt = Attempt()
        try:
            result = flows.declare(
                runtime,
                severity=severity,
                title=title,
                reporter_id=user_id,
                origin_channel_id=view.get("private_metadata") or None,
                request_key=f"view:{view['id']}",
                incident_type=kind if kind in runtime.policy.incident_types else None,
            )
        except Exception as exc:
            trouble = attempt.trouble(exc, NOT_DECLARED)
            if trouble is None:
                raise
            log.warning("declare form failed on the database: %s", exc)
            SlackGateway(client).post(user_id, f"{trouble}\n(Your title: {title})")
            return
        # A DM: outside the room, so a private incident's title is not in it.
        answer = declare_answer(result.incident.outside(), result.created, result.problems, result.pending)
        SlackGateway(client).post(user_id, answer)

    @app.view(STATUS_CALLBACK)
    def status_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        text = _value(view["state"], "status").strip()
        if not text:
            ack(response_action="errors", errors={"status": "Write the update first."})
            return
        ack()
        attempt = Attempt()
        try:
            flows.add_entry(
                runtime,
                int(view["private_metadata"]),
                body["user"]["id"],
                EventKind.STATUS_UPDATE,
                text,
                dedupe_key=f"view:{view['id']}",
            )
        except IncidentError as exc:
            log.info("status update refused: %s", exc)
        except Exception as exc:
            trouble = attempt.trouble(
                exc, Outcome(N_("your status update was not posted"), "`/incident timeline`")
            )
            if trouble is None:
                raise
            log.warning("status update failed on the database: %s", exc)
            SlackGateway(client).post(body["user"]["id"], f"{trouble}\n(Your update: {text})")
