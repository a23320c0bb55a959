"""Modals: the declare form (`/incident` alone) and the status-update form (summary button)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.config.policy import SEVERITY_KEYS
from bot.i18n import N_, _, use_language
from bot.incidents import flows
from bot.incidents.service import IncidentError, validate_title
from bot.incidents.timeline import EventKind
from bot.runtime import Runtime
from bot.slack.blocks.incident import declare_answer
from bot.slack.blocks.modals import DECLARE_CALLBACK, DRILL_BLOCK, STATUS_CALLBACK, declare_view
from bot.slack.gateway import SlackGateway
from bot.slack.locale import known_language_for, language_for
from handlers.faults import NOT_DECLARED, Attempt, Outcome

log = logging.getLogger(__name__)


def open_declare_modal(
    runtime: Runtime, client: WebClient, trigger_id: str, origin_channel: str | None
) -> None:
    SlackGateway(client).open_view(trigger_id, declare_view(runtime.policy, origin_channel))


def _element(state: dict[str, Any], block: str) -> dict[str, Any]:
    """A form block's input as Slack sends it (every element of ours has action_id `value`)."""
    return state.get("values", {}).get(block, {}).get("value", {})


def _value(state: dict[str, Any], block: str) -> str:
    element = _element(state, block)
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value", "")
    return element.get("value") or ""


def _checked(state: dict[str, Any], block: str) -> bool:
    return bool(_element(state, block).get("selected_options"))


def register(app: App, runtime: Runtime) -> None:
    @app.view(DECLARE_CALLBACK)
    def declare_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        severity = _value(view["state"], "severity")
        title = _value(view["state"], "title")
        kind = _value(view["state"], "incident_type")  # the Type select; "none" or absent: ordinary
        drill = _checked(view["state"], DRILL_BLOCK)
        user_id = body["user"]["id"]
        # Errors go in the ack, which cannot wait for Slack: the cached language (the form's opener).
        with use_language(known_language_for(client, user_id)):
            try:
                validate_title(title)
            except IncidentError as exc:
                ack(response_action="errors", errors={"title": str(exc)})
                return
            if severity not in SEVERITY_KEYS:
                ack(response_action="errors", errors={"severity": _("Choose a severity.")})
                return
        ack()
        with use_language(language_for(client, user_id)):
            declare_form(view, user_id, severity, title, kind, drill, client)

    def declare_form(
        view: dict[str, Any],
        user_id: str,
        severity: str,
        title: str,
        kind: str,
        drill: bool,
        client: WebClient,
    ) -> None:
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
                drill=drill,
            )
        except Exception as exc:
            trouble = attempt.trouble(exc, NOT_DECLARED)
            if trouble is None:
                raise
            log.warning("declare form failed on the database: %s", exc)
            SlackGateway(client).post(user_id, trouble + "\n" + _("(Your title: {title})", title=title))
            return
        # A DM: outside the room, so a private incident's title is not in it.
        answer = declare_answer(result.incident.outside(), result.created, result.problems, result.pending)
        SlackGateway(client).post(user_id, answer)

    @app.view(STATUS_CALLBACK)
    def status_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        text = _value(view["state"], "status").strip()
        if not text:
            with use_language(known_language_for(client, body["user"]["id"])):
                ack(response_action="errors", errors={"status": _("Write the update first.")})
            return
        ack()
        with use_language(language_for(client, body["user"]["id"])):
            status_form(body, view, text, client)

    def status_form(body: dict[str, Any], view: dict[str, Any], text: str, client: WebClient) -> None:
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
            SlackGateway(client).post(
                body["user"]["id"], trouble + "\n" + _("(Your update: {text})", text=text)
            )
