"""The `warroom` command: run, console, migrate, postmortem, audit, doctor, manifest."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading

from bot import doctor, manifest
from bot.audit import cli as audit_cli
from bot.config import PolicyError, Settings, load_policy
from bot.db.reachable import wait_for_database
from bot.i18n import _, use_language
from bot.logs import configure_logging
from bot.postmortem import cli as postmortem_cli
from bot.rehearse import cli as rehearse_cli
from bot.reports import cli as report_cli

DRAIN_SECONDS = 20.0  # within Kubernetes' default 30 s grace, leaving time to exit


def _policy_or_exit(settings: Settings):  # type: ignore[no-untyped-def]
    try:
        return load_policy(settings.warroom_config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc


def _database_or_stop(url: str) -> bool:
    """Wait for the database, one line per attempt; False when SIGTERM/SIGINT came first."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        say = logging.getLogger("warroom").warning
        return wait_for_database(url, say, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_logging(settings)
    policy = _policy_or_exit(settings)
    if settings.slack_bot_token is None:
        print(
            _("SLACK_BOT_TOKEN is not set: create the app from manifest.yml and export its xoxb- token."),
            file=sys.stderr,
        )
        return 2
    if not settings.socket_mode and settings.slack_signing_secret is None:
        print(
            _("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it."), file=sys.stderr
        )
        return 2
    from bot.app import build_bolt_app, build_runtime
    from bot.http import HttpServer, make_wsgi_app
    from bot.scheduler import readiness_checks, start_scheduler

    if not _database_or_stop(settings.database_url):
        return 0
    runtime = build_runtime(settings, policy)
    app = build_bolt_app(runtime)
    # What exists now lives as long as the process: out of the collector's sight, so a full
    # collection during a burst of pages scans what the burst made, not every module (55 ms, bench/).
    gc.freeze()
    scheduler = start_scheduler(runtime)
    readiness = lambda: readiness_checks(runtime, scheduler)  # noqa: E731
    server = HttpServer(make_wsgi_app(app, runtime, readiness), host=args.host, port=settings.port)
    stop = threading.Event()

    socket_handler = None

    def shutdown(*_: object) -> None:
        stop.set()
        if socket_handler is not None:
            socket_handler.close()
        server.stop()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert settings.slack_app_token is not None
        socket_handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        socket_handler.connect()
        logging.getLogger("warroom").info("socket mode connected; health on port %s", server.port)
    else:
        logging.getLogger("warroom").info("listening on %s:%s", args.host, server.port)
    server.serve_forever()
    # SIGTERM: set-up in flight finishes or is handed back within the grace period, then we go.
    from bot.incidents.setup import drain

    drain(runtime, DRAIN_SECONDS)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    runtime.executor.shutdown(wait=False)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.db import create_db_engine, migrate

    settings = Settings()
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    print(_("migrated {url}", url=engine.url.render_as_string(hide_password=True)))
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from devkit.console import run_console

    return run_console(database_url=args.database_url, config=args.config)


# Verbs provided by other parts: module with add_parser(subparsers) and run(args) -> int.
PLUGGED_VERBS = (
    postmortem_cli,
    audit_cli,
    doctor,
    manifest,
    rehearse_cli,
    report_cli,
)  # each has add_parser(sub) and run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom", description=_("Slack chat-ops bot for incident response.")
    )
    sub = parser.add_subparsers(dest="verb", required=True)
    run = sub.add_parser(
        "run", help=_("Run the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set).")
    )
    run.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all interfaces in a container
    run.set_defaults(func=cmd_run)
    console = sub.add_parser(
        "console", help=_("The whole bot offline: a REPL on a local Slack emulator and SQLite.")
    )
    console.add_argument(
        "--database-url", default=None, help=_("default: DATABASE_URL or sqlite:///warroom.db")
    )
    console.add_argument(
        "--config", default=None, help=_("policy YAML; default: WARROOM_CONFIG or a demo policy")
    )
    console.set_defaults(func=cmd_console)
    migrate = sub.add_parser("migrate", help=_("Apply database migrations to DATABASE_URL."))
    migrate.set_defaults(func=cmd_migrate)
    for module in PLUGGED_VERBS:
        before = set(sub.choices)
        module.add_parser(sub)
        for name in set(sub.choices) - before:
            if sub.choices[name].get_default("func") is None:
                sub.choices[name].set_defaults(func=module.run)
    return parser


def _policy_language() -> str | None:
    """Policy `language` for the CLI's own words; None (English) when no policy can be read yet."""
    try:
        path = Settings().warroom_config
        return load_policy(path).language if path else None
    except PolicyError as exc:
        return exc.language
    except Exception:  # a broken environment is reported by the command itself, in English
        return None


def main(argv: list[str] | None = None) -> int:
    with use_language(_policy_language()):
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
