"""The WSGI side of POST /alerts/{source}: read at most 1 MiB, hand over to ingest, answer JSON."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from bot.alerts import ingest, timers

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
PREFIX = "/alerts/"
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def _read(environ: dict[str, Any]) -> bytes | None:
    """The body, or None when it is over the limit (declared or actual)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > ingest.MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    body = stream.read(min(length, ingest.MAX_BODY + 1)) if length else stream.read(ingest.MAX_BODY + 1)
    return None if len(body) > ingest.MAX_BODY else body


def handle(runtime: Runtime, environ: dict[str, Any]) -> tuple[int, bytes]:
    name = environ.get("PATH_INFO", "")[len(PREFIX) :]
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, b'{"status": "error", "message": "POST alerts here"}'
    body = _read(environ)
    if body is None:
        reply = ingest.Reply(413, {"status": "error", "message": "body larger than 1 MiB"})
    else:
        try:
            reply = ingest.receive(runtime, name, _headers(environ), body)
        except Exception:  # the database is down, say: the sender retries, nothing was acknowledged
            log.exception("alerts: could not store a delivery", extra={"source": name[:64]})
            reply = ingest.Reply(503, {"status": "error", "message": "could not store the alert; retry"})
    if reply.stored:
        timers.nudge(runtime)
    return reply.status, json.dumps(reply.body).encode()


def status_line(code: int) -> str:
    return f"{code} {REASONS.get(code, 'Unknown')}"
