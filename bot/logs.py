"""Structured logs: one JSON object per line on stderr, with incident_id and request_id bound.

Every record — ours through structlog or stdlib `logging`, and the libraries' (Bolt, slack_sdk,
APScheduler, SQLAlchemy) through the stdlib bridge — goes through the same processors, the last of
which masks secrets: the configured tokens and passwords literally, and anything that looks like a
credential (xoxb- tokens, AWS keys, JWTs, `user:pass@` in URLs, `password=…`) by pattern. So a
library that logs a request URL or a stack trace with a DSN in it cannot leak it.

stderr, not stdout: `warroom doctor` and `warroom manifest` print their answer on stdout.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import copy_context
from typing import IO, TYPE_CHECKING, Any

import structlog
from structlog.contextvars import (
    bind_contextvars,
    clear_contextvars,
    merge_contextvars,
    unbind_contextvars,
)
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.security.redact import MASK, mask_data

if TYPE_CHECKING:
    from bot.config.settings import Settings

# Libraries that are chatty at INFO about things an operator does not act on.
QUIET = {
    "urllib3": logging.WARNING,
    "kubernetes.client.rest": logging.WARNING,
    "botocore": logging.WARNING,
    "apscheduler.executors.default": logging.WARNING,  # two lines a second per replica for the tick
    "alembic.runtime.plugins": logging.WARNING,
}

_literal_secrets: list[str] = []
# Fields structlog itself adds: never secret, and cheap to skip.
_OWN_KEYS = frozenset({"timestamp", "level", "logger", "request_id", "incident_id"})


def _literals(value: Any) -> Any:
    """`value` with the process's known secrets replaced, at any depth."""
    if isinstance(value, str):
        for secret in _literal_secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, Mapping):
        return {k: _literals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_literals(v) for v in value]
    return value


def mask_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: known secrets, credential patterns and values under secret-looking keys
    (password=, token=, api_key=, …) masked in the message, the fields and the traceback."""
    fields = {k: v for k, v in event_dict.items() if k not in _OWN_KEYS}
    event_dict.update(mask_data(_literals(fields)))
    return event_dict


def _secret_values(settings: Settings | None) -> list[str]:
    """The literal secrets this process knows: they are masked wherever they appear."""
    if settings is None:
        return []
    values = []
    for name in ("slack_bot_token", "slack_signing_secret", "slack_app_token"):
        secret = getattr(settings, name, None)
        if secret is not None and secret.get_secret_value():
            values.append(secret.get_secret_value())
    try:
        from sqlalchemy.engine import make_url

        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL fails loudly elsewhere; here it only has no password
        password = None
    if password:
        values.append(str(password))
    # Longest first, so a secret that contains another is replaced whole. Very short values would
    # mask ordinary words, so they are left to the pattern rules.
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def _processors() -> list[Processor]:
    return [
        merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def configure_logging(
    settings: Settings | None = None, *, stream: IO[str] | None = None, level: str | None = None
) -> None:
    """Route structlog and stdlib logging to one handler: JSON lines (or `console` for humans)."""
    global _literal_secrets
    _literal_secrets = _secret_values(settings)
    log_format = (getattr(settings, "warroom_log_format", None) or "json").lower()
    level_name = (level or os.environ.get("WARROOM_LOG_LEVEL") or "INFO").upper()
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if log_format == "console"
        else structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
    )
    shared = _processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_name)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.stdlib.get_logger(name)


# -------------------------------------------------------------------------------- bound identifiers
@contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    """One request's log context: its id bound, and nothing left over from the thread's last request."""
    rid = request_id or new_request_id()
    clear_contextvars()
    bind_contextvars(request_id=rid)
    try:
        yield rid
    finally:
        clear_contextvars()


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def wsgi_request_id(environ: MutableMapping[str, Any]) -> str:
    """The request's id: the one a proxy put in X-Request-Id (kept short and printable), or a new
    one, written back into the environ so that Bolt's middleware sees the same id."""
    given = "".join(ch for ch in str(environ.get("HTTP_X_REQUEST_ID") or "") if ch.isprintable())[:64]
    environ["HTTP_X_REQUEST_ID"] = given or new_request_id()
    return str(environ["HTTP_X_REQUEST_ID"])


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A pool whose tasks run in a copy of the submitter's context: Bolt runs listeners on a pool
    after the ack, and without this their log lines would lose the request and incident ids."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = 0  # submitted and not finished: a shutdown or a test waits for it to be 0
        self._pending_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = copy_context()
        with self._pending_lock:
            self._pending += 1
        future = super().submit(context.run, fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future[Any]) -> None:
        with self._pending_lock:
            self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending


# War-room channel -> incident id, as listeners found it in the database. A channel belongs to one
# incident for good, so an entry never goes stale; the size only bounds memory.
_INCIDENT_OF_CHANNEL: dict[str, int] = {}
_CHANNELS_REMEMBERED = 4096


def bind_incident(incident_id: int, channel_id: str | None = None) -> None:
    """A listener found the incident it works on: bind its id for the rest of the request, and
    remember the channel so the next request there has it bound from the start."""
    bind_contextvars(incident_id=incident_id)
    if channel_id and _INCIDENT_OF_CHANNEL.get(channel_id) != incident_id:
        if len(_INCIDENT_OF_CHANNEL) >= _CHANNELS_REMEMBERED:
            _INCIDENT_OF_CHANNEL.pop(next(iter(_INCIDENT_OF_CHANNEL)), None)
        _INCIDENT_OF_CHANNEL[channel_id] = incident_id


def bolt_context_middleware() -> Callable[..., Any]:
    """Bolt middleware: binds request_id and, in a war room the process has seen, incident_id.

    It runs before the listener acks, so it never touches the database (a hung database must not
    cost Slack's 3 s): the incident comes from what listeners remembered (`bind_incident`), and a
    listener binds it itself once it has looked the channel up.
    Bolt runs listeners after the whole middleware chain has returned, so the ids are bound for the
    rest of the dispatch (not in a `with` block) and travel to the listener pool with the context.
    Both are set on every request, so a reused thread never logs the previous request's ids.
    """

    def middleware(req: Any, context: Any, next: Callable[[], Any]) -> Any:  # Bolt injects by name
        given = (getattr(req, "headers", None) or {}).get("x-request-id") or []
        bind_contextvars(request_id=given[0] if given else new_request_id())  # none in Socket Mode
        channel_id = getattr(context, "channel_id", None)
        incident_id = _INCIDENT_OF_CHANNEL.get(channel_id) if channel_id else None
        if incident_id is None:
            unbind_contextvars("incident_id")
        else:
            bind_contextvars(incident_id=incident_id)
        return next()

    return middleware
