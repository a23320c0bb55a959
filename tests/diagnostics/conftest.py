"""Real engines and real local servers for the diagnostics tests.

MariaDB (127.0.0.1:3306, root, database `test`) and Redis (127.0.0.1:6379) are the machine's;
the HTTP, hanging, TLS and DNS servers are started here on ephemeral ports, one per test.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from bot.app import build_runtime
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.runtime import Runtime

MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_policy(**extra: Any) -> Policy:
    data: dict[str, Any] = {
        "targets": {
            "mysql": {
                "orders": {"url": MYSQL_URL},
                "reports": {"url": f"mysql+pymysql://root@127.0.0.1:{free_port()}/"},
            },
            "redis": {"cache": {"url": REDIS_URL}},
        },
        # One person runs every command of a module: the rate limit has its own tests (test_access_e2e).
        "diagnostics": {"timeout": "5s", "triage_timeout": "8s", "rate_limit": {"per_minute": 10_000}},
    }
    data.update(extra)
    return Policy.model_validate(data)


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def runtime(sqlite_url: str, policy: Policy) -> Iterator[Runtime]:
    rt = build_runtime(Settings(database_url=sqlite_url, slack_bot_token="xoxb-test"), policy)
    yield rt
    rt.executor.shutdown(wait=False)
    rt.engine.dispose()


class _Handler(BaseHTTPRequestHandler):
    routes = {
        "/health": (200, b'{"status": "ok"}'),
        "/down": (502, b"Bad Gateway"),
        "/broken": (500, b"Traceback... DB_PASSWORD=hunter2"),
        "/moved": (301, b""),
        "/verbose": (200, b"ok"),
    }

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/health")
        if self.path == "/verbose":  # a debug endpoint whose headers alone overflow one Slack message
            for i in range(400):
                self.send_header(f"X-Debug-{i:03d}", "trace " + "z" * 40)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word: the timeout's proving ground."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(1)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def closed_port() -> int:
    return free_port()


def _serve_tls(listener: socket.socket, context: ssl.SSLContext, stop: threading.Event) -> None:
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        try:
            conn.settimeout(2)
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # the client closes after the handshake
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


@pytest.fixture
def tls_server() -> Iterator[tuple[int, trustme.CA, datetime]]:
    """A TLS server whose self-signed (trustme) certificate for localhost expires in 3 days."""
    ca = trustme.CA()
    not_after = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    cert = ca.issue_cert("localhost", "127.0.0.1", not_after=not_after)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    thread = threading.Thread(target=_serve_tls, args=(listener, context, stop), daemon=True)
    thread.start()
    yield int(listener.getsockname()[1]), ca, not_after
    stop.set()
    thread.join(1)
    listener.close()


@pytest.fixture
def dns_server() -> Iterator[int]:
    """A tiny authoritative DNS server on UDP: api.shop.test → 10.1.2.3 (via www CNAME), else NXDOMAIN."""
    import dns.message
    import dns.rcode
    import dns.rrset

    records = {
        "www.shop.test.": ("CNAME", "api.shop.test."),
        "api.shop.test.": ("A", "10.1.2.3"),
    }
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text()
            if name not in records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            while name in records:
                rtype, value = records[name]
                if rtype == "CNAME" or dns.rdatatype.to_text(question.rdtype) == rtype:
                    response.answer.append(dns.rrset.from_text(name, 300, "IN", rtype, value))
                name = value if rtype == "CNAME" else ""
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(1)
    sock.close()


def wait_until(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def https_server() -> Iterator[str]:
    """The same routes over HTTPS, with a trustme certificate the system store does not trust."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
