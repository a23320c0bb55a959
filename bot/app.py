"""The composition root: builds the Runtime, the Bolt app and the HTTP server from settings and policy."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import metrics
from bot.clock import Clock, SystemClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.db.engine import create_db_engine, make_session_factory, migrate
from bot.logs import ContextThreadPoolExecutor, bolt_context_middleware
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway

log = logging.getLogger(__name__)

# Lifecycle hooks of other parts, wired here so that no domain package imports another's flows.
HOOKS: dict[str, list[str]] = {
    "resolved": ["bot.postmortem.flows:on_resolved"],
    "reopened": ["bot.postmortem.flows:on_reopened"],
}


def _load_hooks() -> dict[str, list[Any]]:
    hooks: dict[str, list[Any]] = {}
    for name, paths in HOOKS.items():
        for path in paths:
            module_name, func = path.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            if hasattr(module, func):
                hooks.setdefault(name, []).append(getattr(module, func))
    return hooks


def build_runtime(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    run_migrations: bool = True,
) -> Runtime:
    engine = create_db_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = client or make_client(token, settings.slack_api_url)
    gateway = SlackGateway(client)
    runtime = Runtime(
        settings=settings,
        policy=policy,
        engine=engine,
        sessions=make_session_factory(engine),
        warroom=gateway,
        pager=gateway,
        files=gateway,
        clock=clock or SystemClock(),
        hooks=_load_hooks(),
    )
    metrics.bind(runtime)  # /metrics reads open incidents from this runtime's database at scrape time
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
    app.middleware(bolt_context_middleware(runtime))  # request_id / incident_id on every log line
    from handlers import register_all

    register_all(app, runtime)
    return app
