"""The `/incident` command: ack at once, then declare or dispatch to a registered sub-command."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.config.policy import SEVERITY_KEYS
from bot.i18n import N_, _, use_language
from bot.incidents import flows, service
from bot.incidents.service import IncidentError
from bot.logs import bind_incident
from bot.runtime import Runtime
from bot.slack.blocks.incident import declare_answer
from bot.slack.locale import known_language_for, language_for
from bot.text import clean, escape
from handlers.faults import NOT_DECLARED, NOT_READ, NOTHING_CHANGED, Attempt, Outcome
from handlers.subcommands import SUBCOMMANDS, CommandContext, verb_of

log = logging.getLogger(__name__)

# What did not happen, per verb, when the database failed before anything was saved.
OUTCOMES = {
    "declare": NOT_DECLARED,
    "note": Outcome(N_("your note was not saved"), "`/incident timeline`"),
    "status": Outcome(N_("your status update was not posted"), "`/incident timeline`"),
    "page": Outcome(N_("I cannot tell whether the page went out (if it is urgent, call them directly)")),
    "timeline": NOT_READ,
    "list": Outcome(N_("I could not read the open incidents")),
    "oncall": NOT_READ,
}


def _declare(runtime: Runtime, body: dict[str, Any], severity: str, title: str, respond: Respond) -> None:
    result = flows.declare(
        runtime,
        severity=severity,
        title=title,
        reporter_id=body["user_id"],
        origin_channel_id=body.get("channel_id"),
        request_key=body.get("trigger_id"),
    )
    respond(text=declare_answer(result.incident, result.created, result.problems, result.pending))


def _early_error(text: str) -> str | None:
    """Errors found without the network or the database go straight into the ack."""
    verb, _space, rest = text.partition(" ")
    verb = verb_of(verb)
    if re.fullmatch(r"p\d+|sev\d+", verb) and verb not in SEVERITY_KEYS:
        return _(
            "Unknown severity `{verb}`. Use p0, p1, p2 or p3: `/incident p1 Checkout returns 502`.", verb=verb
        )
    if verb in SEVERITY_KEYS:
        try:
            service.validate_title(rest)
        except IncidentError as exc:
            return str(exc)
        return None
    if verb not in SUBCOMMANDS:
        return _(
            "Unknown command `{verb}`. Declare with `/incident p1 <title>`, or see `/incident help`.",
            verb=verb,
        )
    return None


def register(app: App, runtime: Runtime) -> None:
    @app.command("/incident")
    def incident_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        # Control characters, terminal escapes and bidi overrides never get further than here.
        text = " ".join(clean(body.get("text") or "").split())
        if not text:
            ack()
            from handlers.modals import open_declare_modal

            with use_language(language_for(client, body.get("user_id"))):
                open_declare_modal(runtime, client, body["trigger_id"], body.get("channel_id"))
            return
        if text.partition(" ")[0].lower() in runtime.policy.incident_types:  # `/incident security p1 …`
            from handlers.security import declare_typed

            declare_typed(runtime, ack, body, text, respond)
            return
        verb, _space, args = text.partition(" ")
        verb = verb_of(verb)
        # The ack cannot wait for Slack: the person's language if it is cached, else the workspace's.
        with use_language(known_language_for(client, body.get("user_id"))):
            error = _early_error(text)
            if error:
                ack(text=escape(error))
                return
            if verb in SEVERITY_KEYS:
                ack(text=_("⏳ Declaring {severity}: {title}", severity=verb.upper(), title=escape(args)))
            else:
                ack()
        # After the ack, never before it: what only this person sees is in their Slack language.
        with use_language(language_for(client, body.get("user_id"))):
            _run(runtime, body, verb, args, respond, client)


def _run(
    runtime: Runtime, body: dict[str, Any], verb: str, args: str, respond: Respond, client: WebClient
) -> None:
    attempt = Attempt()
    try:
        if verb in SEVERITY_KEYS:
            _declare(runtime, body, verb, args, respond)
            return
        command = SUBCOMMANDS[verb]
        ctx = CommandContext(
            runtime=runtime,
            client=client,
            user_id=body["user_id"],
            channel_id=body.get("channel_id", ""),
            verb=verb,
            args=args.strip(),
            trigger_id=body.get("trigger_id"),
            respond=respond,
            request_key=body.get("trigger_id"),
        )
        if command.in_incident:
            with runtime.session() as session:
                ctx.incident_id = service.require_in_channel(session, ctx.channel_id, verb).id
            bind_incident(ctx.incident_id, ctx.channel_id)
        command.func(ctx)
    except IncidentError as exc:
        respond(text=escape(str(exc)))
    except Exception as exc:
        trouble = attempt.trouble(
            exc, OUTCOMES.get("declare" if verb in SEVERITY_KEYS else verb, NOTHING_CHANGED)
        )
        if trouble is not None:  # an outage, not a bug: one line, not a traceback per command
            log.warning("/incident %s failed on the database: %s", verb, exc)
            respond(text=trouble)
            return
        log.exception("/incident %s failed", verb)
        respond(
            text=_(
                "Something went wrong running `/incident {verb}`; it is logged. Nothing was lost: try again.",
                verb=escape(verb),
            )
        )
