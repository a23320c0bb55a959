"""SlackEmulator: the HTTP front (Web API, upload URLs, response_urls), call recording and fault injection."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from devkit.slack_emulator import responses
from devkit.slack_emulator.methods import REGISTRY, Ctx, SlackError
from devkit.slack_emulator.model import ResponseUrl
from devkit.slack_emulator.socket_mode import SocketModeServer
from devkit.slack_emulator.state import Workspace
from devkit.slack_emulator.wire import parse_params, parse_upload

T = TypeVar("T")
Reply = tuple[int, bytes, dict[str, str]]  # status, body, headers

DEFAULT_SCOPES: tuple[str, ...] = (
    "channels:manage",
    "channels:read",
    "channels:join",
    "channels:history",
    "chat:write",
    "commands",
    "groups:write",
    "groups:read",
    "groups:history",
    "im:write",
    "im:read",
    "im:history",
    "mpim:write",
    "mpim:read",
    "mpim:history",
    "pins:read",
    "pins:write",
    "reactions:read",
    "reactions:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "files:read",
    "files:write",
    "team:read",
)


@dataclass
class Call:
    method: str  # a Web API method, or "upload" / "response_url" for those endpoints
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int
    remaining: int | None  # None: until cleared


class SlackEmulator(Workspace):
    """An in-process Slack: `WebClient(token=emu.bot_token, base_url=emu.api_url)` talks to it unmodified."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        seed: bool = True,
        trigger_ttl: float = 3.0,
        **workspace: Any,
    ) -> None:
        super().__init__(**workspace)
        self.scopes, self.trigger_ttl = frozenset(scopes), trigger_ttl
        self._address = (host, port)
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._latency: dict[str, float] = {}
        self._late: dict[str, float] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: SocketModeServer | None = None
        if seed:
            self.add_channel("general", id="C_GENERAL", is_general=True, purpose="Company-wide announcements")

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> SlackEmulator:
        httpd = _Server(self._address, _Handler)
        httpd.emulator = self
        self._httpd = httpd
        # A short poll interval keeps stop() fast; every test can afford a fresh emulator.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            socket_mode, self._socket_mode = self._socket_mode, None
        if socket_mode is not None:
            socket_mode.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def socket_mode(self) -> SocketModeServer:
        """The Socket Mode WebSocket server, started on first use so that HTTP-only tests never pay for it."""
        with self.lock:
            if self._socket_mode is None:
                self._socket_mode = SocketModeServer(self.app_id, host=self._address[0])
            return self._socket_mode

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("emulator not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}/"

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    # recording -------------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self.lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    # fault injection -------------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int | None = None,
        *,
        error: str | None = None,
        retry_after: int = 1,
        times: int | None = 1,
    ) -> None:
        """Make the next `times` (None: all) calls of `method` ("*": any) fail.

        429 (the default) carries Retry-After; 500/503 are server errors; `error` answers ok:false.
        """
        with self.lock:
            self._faults.setdefault(method, []).append(
                _Fault(status or (200 if error else 429), error, retry_after, times)
            )

    def latency(self, method: str, seconds: float, *, after: bool = False) -> None:
        """Make `method` ("*": any) slow: the call waits `seconds` before it is carried out, or, with
        `after`, is carried out at once and answered late — what a client that times out cannot tell
        from a failure (the channel exists although the caller saw a timeout)."""
        with self.lock:
            (self._late if after else self._latency)[method] = seconds

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._latency.clear()
            self._late.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        with self.lock:
            for key in (method, "*"):
                queue = self._faults.get(key, [])
                if queue:
                    fault = queue[0]
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            queue.pop(0)
                    return fault
        return None

    # helpers for tests and the driver ----------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
        """Poll until `predicate()` is truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    def new_response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        with self.lock:
            hook = ResponseUrl(id=self.new_id("R"), channel=channel, user=user, message_ts=message_ts)
            self.response_urls[hook.id] = hook
        return f"{self.base_url}response/{hook.id}"

    def responses(self, response_url_or_id: str) -> list[dict[str, Any]]:
        """Payloads the bot posted to a response_url, oldest first."""
        with self.lock:
            hook = self.response_urls.get(response_url_or_id.rstrip("/").rsplit("/", 1)[-1])
            return list(hook.payloads) if hook else []

    # request handling (called on server threads) ------------------------------------------------------
    def handle(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        url = urlsplit(path)
        kind, _, rest = url.path.strip("/").partition("/")
        ctype = headers.get("content-type", "application/x-www-form-urlencoded")
        if verb == "GET" and kind == "files":
            f = self.files.get(rest.split("/")[0])
            return (200, f.content, {"Content-Type": "application/octet-stream"}) if f else (404, b"", {})
        name = {"api": rest, "upload": "upload", "response": "response_url"}.get(kind)
        if not name:
            return 404, b"not found", {"Content-Type": "text/plain"}
        try:
            params = parse_params(url.query, body, ctype) if kind != "upload" else {"file": rest}
        except (ValueError, UnicodeDecodeError):
            return self._answer(name, {}, 200, {"ok": False, "error": "invalid_json"})
        delay = self._latency.get(name, self._latency.get("*", 0.0))
        if delay:
            time.sleep(delay)
        token = str(params.pop("token", ""))
        token = headers.get("authorization", "").removeprefix("Bearer ").strip() or token
        fault = self._take_fault(name)
        if fault is not None:
            return self._fault_answer(name, params, fault)
        if kind == "upload":
            return self._upload(rest.split("/")[-1], parse_upload(body, ctype))
        if kind == "response":
            return self._response_url(rest, params)
        reply = self._answer(name, params, 200, self._call_method(name, params, token))
        late = self._late.get(name, self._late.get("*", 0.0))
        if late:
            time.sleep(late)
        return reply

    def _call_method(self, name: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        meth = REGISTRY.get(name)
        if meth is None:
            return {"ok": False, "error": "unknown_method"}
        if not token:
            return {"ok": False, "error": "not_authed"}
        caller = self.tokens.get(token)
        if caller is None:
            return {"ok": False, "error": "invalid_auth"}
        # Slack keeps token types apart: xapp- opens Socket Mode connections and nothing else.
        if (name == "apps.connections.open") != token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if meth.scopes and not self.scopes & set(meth.scopes):
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": meth.scopes[0],
                "provided": ",".join(sorted(self.scopes)),
            }
        ctx = Ctx(self, caller, self.base_url, self.scopes, self.trigger_ttl)
        try:
            with self.lock:  # one request mutates the workspace at a time, as a whole
                return {"ok": True, **meth.handler(ctx, params)}
        except SlackError as exc:
            return {"ok": False, "error": exc.error, **exc.extra}

    def _fault_answer(self, name: str, params: dict[str, Any], fault: _Fault) -> Reply:
        if fault.status == 429:
            status, error, extra = 429, "ratelimited", {"Retry-After": str(fault.retry_after)}
        elif fault.status >= 500:
            status, error, extra = fault.status, fault.error or "internal_error", {}
        else:
            status, error, extra = fault.status, fault.error or "fatal_error", {}
        return self._answer(name, params, status, {"ok": False, "error": error}, extra)

    def _upload(self, file_id: str, content: bytes) -> Reply:
        with self.lock:
            f = self.files.get(file_id)
            if f is not None:
                f.content, f.uploaded = content, True
        status, text = (200, f"OK - {len(content)}") if f else (404, "file_not_found")
        self._record("upload", {"file": file_id, "size": len(content)}, status, {"ok": f is not None})
        return status, text.encode(), {"Content-Type": "text/plain"}

    def _response_url(self, hook_id: str, payload: dict[str, Any]) -> Reply:
        hook = self.response_urls.get(hook_id)
        error = "expired_url" if hook is None else responses.deliver(self, hook, payload)
        status = 404 if error else 200
        return self._answer(
            "response_url",
            {"response_id": hook_id, **payload},
            status,
            {"ok": not error, **({"error": error} if error else {})},
        )

    def _answer(
        self,
        name: str,
        params: dict[str, Any],
        status: int,
        body: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> Reply:
        self._record(name, params, status, body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-OAuth-Scopes": ",".join(sorted(self.scopes)),
        }
        meth = REGISTRY.get(name)
        if meth is not None:
            headers["X-Accepted-OAuth-Scopes"] = ",".join(meth.scopes)
        return status, json.dumps(body).encode(), {**headers, **(extra or {})}

    def _record(self, name: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        with self.lock:
            self._calls.append(Call(name, params, status, body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 makes bursts of parallel calls wait for TCP retransmits
    emulator: SlackEmulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    server_version = "SlackEmulator/1.0"
    # Kept-alive connections, as slack.com keeps them; without TCP_NODELAY the body written after the
    # headers waits for the client's delayed ACK (40 ms a call).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # tests read calls, not access logs
        pass

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        emulator = self.server.emulator
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, out = emulator.handle(self.command, self.path, headers, body)
        try:
            self.send_response(status)
            for key, value in out.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The caller gave up (its timeout, or it was killed): as on Slack, the call still happened.
            self.close_connection = True
