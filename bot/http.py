"""The HTTP front: POST /slack/events (Bolt), GET /healthz, /readyz, /metrics; served by waitress."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.db.probe import database_answers
from bot.logs import request_context, wsgi_request_id
from bot.metrics import render_metrics
from bot.runtime import Runtime

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BODY = 1024 * 1024  # Slack's own payloads are far smaller; anything larger is refused unread
log = logging.getLogger(__name__)
# Bolt logs a refused request with its whole body at INFO: an unsigned flood would fill the disk.
# Signatures are checked here first (below), so Bolt's check only ever sees good ones.
logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.ERROR)


class BadSignatures:
    """Counts refused signatures and says so in one line at most once a minute, never with a body.

    The first refusal is told at once; the ones after it within the minute are told when the minute
    is up, by a timer, so the tail of a flood that then stops is not left untold."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.every, self.clock = every, clock
        self.count = 0
        self.last: float | None = None
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def record(self) -> None:
        with self.lock:
            self.count += 1
            now = self.clock()
            if self.last is not None and now - self.last < self.every:
                if self.timer is None:
                    self.timer = threading.Timer(self.every - (now - self.last), self.flush)
                    self.timer.daemon = True
                    self.timer.start()
                return
            count, self.count, self.last = self.count, 0, now
        self._tell(count)

    def flush(self) -> None:
        with self.lock:
            self.timer = None
            count, self.count = self.count, 0
            if count:
                self.last = self.clock()
        if count:
            self._tell(count)

    @staticmethod
    def _tell(count: int) -> None:
        log.warning("%d request%s with bad signatures in the last minute", count, "" if count == 1 else "s")


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is over MAX_BODY — judged before reading it all."""
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        return None
    stream = environ.get("wsgi.input")
    body = stream.read(min(declared, MAX_BODY) if declared else MAX_BODY + 1) if stream else b""
    return None if len(body) > MAX_BODY else body


def signature_ok(secret: bytes, environ: dict[str, Any], body: bytes, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, and a timestamp within 5 minutes; garbage is just False."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not (timestamp.isdigit() and len(timestamp) <= 12 and signature.startswith("v0=")):
        return False
    if abs((now or time.time()) - int(timestamp)) > 300:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}", signature)


def _malformed(body: bytes, content_type: str) -> str | None:
    """Why a signed Slack body cannot be a Slack request, or None; Bolt would answer these with a 500."""
    try:
        text_body = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if content_type.startswith("application/json"):
        try:
            data = json.loads(text_body) if text_body.strip() else {}
        except ValueError:
            return "the body is not JSON"
        return None if isinstance(data, dict) else "the body is not a JSON object"
    payload = parse_qs(text_body).get("payload")
    if payload:
        try:
            data = json.loads(payload[0])
        except ValueError:
            return "payload is not JSON"
        if not isinstance(data, dict):
            return "payload is not a JSON object"
    return None


def database_ok(runtime: Runtime) -> bool:
    """Within 1.2 s whatever the database does: the probe runs on its own thread (bot.db.probe)."""
    return database_answers(runtime.engine)


def _metrics_body() -> tuple[bytes, str]:
    return render_metrics()


def make_wsgi_app(
    app: App, runtime: Runtime, readiness: Callable[[], dict[str, bool]] | None = None
) -> WSGIApp:
    slack = SlackRequestHandler(app, path="/slack/events")
    secret = runtime.settings.slack_signing_secret
    secret_bytes = secret.get_secret_value().encode() if secret is not None else None
    bad_signatures = BadSignatures()

    def respond(
        start_response: Callable[..., Any], status: str, body: bytes, content_type: str
    ) -> list[bytes]:
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with request_context(wsgi_request_id(environ)):  # every log line of this request carries its id
            return route(environ, start_response)

    def slack_events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["warroom.body"]
        if secret_bytes is not None and not signature_ok(secret_bytes, environ, body):
            bad_signatures.record()
            return respond(
                start_response, "401 Unauthorized", b'{"error":"invalid request"}', "application/json"
            )
        problem = _malformed(body, environ.get("CONTENT_TYPE", ""))
        if problem is not None:
            log.info("refused a malformed Slack request: %s", problem)
            return respond(
                start_response, "400 Bad Request", json.dumps({"error": problem}).encode(), "application/json"
            )
        return slack(environ, start_response)

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method in ("POST", "PUT", "PATCH"):
            body = _read_body(environ)
            if body is None:
                return respond(
                    start_response, "413 Content Too Large", b"Request body over 1 MiB", "text/plain"
                )
            # Whoever reads the body next (Bolt, the alert receivers) reads the capped copy.
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ["warroom.body"] = body
        if path == "/slack/events":
            if method != "POST":
                return respond(start_response, "405 Method Not Allowed", b"POST only", "text/plain")
            return slack_events(environ, start_response)
        if path.startswith("/alerts/"):
            from bot.alerts import wsgi as alerts

            code, body = alerts.handle(runtime, environ)
            return respond(start_response, alerts.status_line(code), body, "application/json")
        if method == "GET" and path in ("/healthz", "/readyz"):
            # /healthz is liveness: the process serves (it only starts serving after migrations
            # reached the database). A database outage must not make Kubernetes restart every replica;
            # it takes them out of the Service through /readyz instead.
            checks = {"process": True} if path == "/healthz" else {"database": database_ok(runtime)}
            if path == "/readyz" and readiness is not None:
                checks.update(readiness())
            ok = all(checks.values())
            body = json.dumps({"ok": ok, "checks": checks}).encode()
            return respond(
                start_response, "200 OK" if ok else "503 Service Unavailable", body, "application/json"
            )
        if method == "GET" and path == "/metrics":
            body, content_type = _metrics_body()
            return respond(start_response, "200 OK", body, content_type)
        return respond(start_response, "404 Not Found", b"Not Found", "text/plain")

    return wsgi


class HttpServer:
    """waitress on a thread pool; `port=0` picks a free port (tests, the console)."""

    def __init__(
        self,
        wsgi: WSGIApp,
        host: str = "0.0.0.0",  # noqa: S104 - a server listens on all interfaces in a container
        port: int = 3000,
        threads: int = 16,
        loop_timeout: float = 1.0,
    ):
        from waitress.server import create_server

        self._server = create_server(
            wsgi,
            host=host,
            port=port,
            threads=threads,
            ident="warroom",
            asyncore_loop_timeout=loop_timeout,
            # waitress buffers a body before the app sees it: its own cap refuses a flood unread.
            max_request_body_size=MAX_BODY,
        )
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    def serve_forever(self) -> None:
        self._running.set()
        try:
            self._server.run()
        finally:
            self._running.clear()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="warroom-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop idle keep-alive connections, so the loop ends at once."""
        server = self._server
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)

        def close_all() -> None:  # runs inside the loop thread, so no socket is closed under its feet
            for channel in list(server._map.values()):  # type: ignore[union-attr]
                if channel is not server.trigger and channel is not server:  # type: ignore[union-attr]
                    channel.close()
            server.close()

        try:
            if not self._running.is_set():
                raise OSError("loop not running")
            # Also right from a signal handler interrupting serve_forever: the loop runs the thunk next.
            server.trigger.pull_trigger(close_all)  # type: ignore[union-attr]
        except OSError:  # the loop is gone (or going): nothing races us for the sockets
            with contextlib.suppress(OSError):
                close_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
