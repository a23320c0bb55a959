"""The HTTP front: POST /slack/events (Bolt), GET /healthz, /readyz, /metrics; served by waitress."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.db.probe import database_answers
from bot.logs import request_context, wsgi_request_id
from bot.metrics import render_metrics
from bot.runtime import Runtime

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def database_ok(runtime: Runtime) -> bool:
    """Within 1.2 s whatever the database does: the probe runs on its own thread (bot.db.probe)."""
    return database_answers(runtime.engine)


def _metrics_body() -> tuple[bytes, str]:
    return render_metrics()


def make_wsgi_app(
    app: App, runtime: Runtime, readiness: Callable[[], dict[str, bool]] | None = None
) -> WSGIApp:
    slack = SlackRequestHandler(app, path="/slack/events")

    def respond(
        start_response: Callable[..., Any], status: str, body: bytes, content_type: str
    ) -> list[bytes]:
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with request_context(wsgi_request_id(environ)):  # every log line of this request carries its id
            return route(environ, start_response)

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events":
            return slack(environ, start_response)
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
            wsgi, host=host, port=port, threads=threads, ident="warroom", asyncore_loop_timeout=loop_timeout
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
