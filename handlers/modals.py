"""Modals: the declare form (`/incident` alone) and the status-update form (summary button)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.config.policy import SEVERITY_KEYS
from bot.incidents import flows
from bot.incidents.service import IncidentError, validate_title
from bot.incidents.timeline import EventKind
from bot.runtime import Runtime

log = logging.getLogger(__name__)
DECLARE_CALLBACK = "declare_incident"
STATUS_CALLBACK = "incident_status_update"


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def declare_view(runtime: Runtime, origin_channel: str | None) -> dict[str, Any]:
    options = [
        {"text": _plain(f"{key.upper()} · {runtime.policy.severity(key).label}"), "value": key}
        for key in SEVERITY_KEYS
    ]
    return {
        "type": "modal",
        "callback_id": DECLARE_CALLBACK,
        "private_metadata": origin_channel or "",
        "title": _plain("Declare an incident"),
        "submit": _plain("Declare"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "severity",
                "label": _plain("Severity"),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "title",
                "label": _plain("Title"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 150},
            },
        ],
    }


def open_declare_modal(
    runtime: Runtime, client: WebClient, trigger_id: str, origin_channel: str | None
) -> None:
    client.views_open(trigger_id=trigger_id, view=declare_view(runtime, origin_channel))


def status_view(incident_id: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": STATUS_CALLBACK,
        "private_metadata": str(incident_id),
        "title": _plain("Status update"),
        "submit": _plain("Post"),
        "blocks": [
            {
                "type": "input",
                "block_id": "status",
                "label": _plain("What should stakeholders know?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 3000,
                },
            }
        ],
    }


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
        result = flows.declare(
            runtime,
            severity=severity,
            title=title,
            reporter_id=user_id,
            origin_channel_id=view.get("private_metadata") or None,
            request_key=f"view:{view['id']}",
        )
        where = f"<#{result.incident.channel_id}>" if result.incident.channel_id else "(no channel)"
        client.chat_postMessage(channel=user_id, text=f"Opened *{result.incident.handle}*: {where}")

    @app.view(STATUS_CALLBACK)
    def status_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = _value(view["state"], "status").strip()
        if not text:
            ack(response_action="errors", errors={"status": "Write the update first."})
            return
        ack()
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
