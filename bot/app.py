"""The composition root: builds the Runtime, the Bolt app and the HTTP server from settings and policy."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from bot import metrics
from bot.clock import Clock, SystemClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.contacts.senders import ContactSenders
from bot.db.engine import create_db_engine, make_session_factory, migrate
from bot.drills import flows as drill_flows
from bot.i18n import set_default_language
from bot.incidents import service as incidents
from bot.logs import ContextThreadPoolExecutor, bolt_context_middleware
from bot.postmortem import flows as postmortem_flows
from bot.runtime import Runtime
from bot.slack.alerts import SlackAlerts
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway
from handlers import register_all

log = logging.getLogger(__name__)

# Lifecycle hooks of other parts, wired here so that no domain package imports another's flows.
HOOKS: dict[str, list[Callable[[Runtime, int, str], None]]] = {
    "resolved": [postmortem_flows.on_resolved, drill_flows.on_resolved],
    "reopened": [postmortem_flows.on_reopened],
}


def build_runtime(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    run_migrations: bool = True,
) -> Runtime:
    set_default_language(policy.language)
    engine = create_db_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = client or make_client(token, settings.slack_api_url, settings.slack_timeout_seconds)
    gateway = SlackGateway(client)
    runtime = Runtime(
        settings=settings,
        policy=policy,
        engine=engine,
        sessions=make_session_factory(engine),
        warroom=gateway,
        pager=gateway,
        files=gateway,
        response_clock=gateway,
        contacts=ContactSenders(),
        alerts=SlackAlerts(client),
        clock=clock or SystemClock(),
        hooks={name: list(funcs) for name, funcs in HOOKS.items()},
    )
    # /metrics reads open incidents from this runtime's database at scrape time.
    metrics.bind(runtime, _open_by_severity)
    return runtime


def build_bolt_app(runtime: Runtime) -> App:
    settings = runtime.settings
    gateway = runtime.warroom
    client = gateway.client if isinstance(gateway, SlackGateway) else None
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else None,
        # Socket Mode has no signatures to check; HTTP mode always checks them (401 otherwise).
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        # Listeners run on this pool after the ack: roomier than Bolt's 10 so a burst of slow Slack
        # calls does not queue new commands; it carries the request's log context along.
        listener_executor=ContextThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt-listener"),
    )
    app.middleware(bolt_context_middleware())  # request_id / incident_id on every log line
    register_all(app, runtime)
    return app


def _open_by_severity(runtime: Runtime) -> dict[str, int]:
    with runtime.engine.connect() as conn:
        return incidents.open_by_severity(conn)
