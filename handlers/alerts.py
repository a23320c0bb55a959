"""Alert proposals (Declare with a severity, Dismiss) and `/incident alerts`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import case, select

from bot.alerts import timers
from bot.alerts.models import AlertGroup
from bot.alerts.service import AlertError, decide_proposal
from bot.alerts.sync import view
from bot.i18n import N_, _
from bot.runtime import Runtime
from bot.slack.blocks.alerts import DECLARE_ACTION, DISMISS_ACTION, SEVERITIES, SEVERITY_ACTION, alerts_list
from handlers.actions import _ephemeral
from handlers.subcommands import CommandContext, subcommand

log = logging.getLogger(__name__)
LIST_LIMIT = 30


@subcommand(
    "alerts", "alerts", N_("Alerts received lately: unmatched, proposed, declared."), in_incident=False
)
def list_alerts(ctx: CommandContext) -> None:
    with ctx.runtime.session() as session:
        unmatched_first = case((AlertGroup.state == "unmatched", 0), else_=1)
        groups = session.scalars(
            select(AlertGroup)
            .where(AlertGroup.activated_at.is_not(None))
            .order_by(unmatched_first, AlertGroup.activated_at.desc())
            .limit(LIST_LIMIT)
        )
        views = [view(session, group) for group in groups]
    text, blocks = alerts_list(views)
    ctx.respond(text=text, blocks=blocks)


def register(app: App, runtime: Runtime) -> None:
    def answer(declare: bool):  # type: ignore[no-untyped-def]
        def handle(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            action = body["actions"][0]
            # "Declare as…" carries the group and the severity in the chosen option: "<group>:<sev>".
            selected = (action.get("selected_option") or {}).get("value") or ""
            group, _sep, severity = (selected or action.get("value") or "").partition(":")
            try:
                decide_proposal(
                    runtime,
                    int(group or 0),
                    body["user"]["id"],
                    declare=declare,
                    severity=severity if severity in SEVERITIES else None,
                )
            except (AlertError, ValueError) as exc:
                _ephemeral(
                    client, body, str(exc) if isinstance(exc, AlertError) else _("That alert is unknown.")
                )
                return
            timers.tick(runtime)  # declare (or update the proposal) now, not at the next tick

        return handle

    app.action(DECLARE_ACTION)(answer(True))
    app.action(SEVERITY_ACTION)(answer(True))
    app.action(DISMISS_ACTION)(answer(False))
