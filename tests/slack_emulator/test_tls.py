"""Slack calls over TLS verify the server as Python's own `ssl` would: trusted CA, matching name.

slack.com is only ever reached over HTTPS; the transport (libcurl) must trust what the system
trusts (or SSL_CERT_FILE), refuse a certificate from an unknown CA, and refuse one issued for
another name — a page sent to an impostor is a page lost and a token leaked.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from bot.ports import ChatError
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway


class _Slack(BaseHTTPRequestHandler):
    seen: list[dict[str, object]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(json.loads(body) if body.startswith(b"{") else {"form": body.decode()})
        answer = json.dumps({"ok": True, "channel": "C1", "ts": "1.000100"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[int, str, type[_Slack]]]:  # type: ignore[no-untyped-def]
    """An HTTPS server with a certificate for `localhost` from a CA only this test knows."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    handler = type("Slack", (_Slack,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], str(ca_file), handler
    server.shutdown()
    server.server_close()


def test_a_server_whose_ca_is_trusted_is_called(tls_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    port, ca_file, slack = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    gateway = SlackGateway(make_client("xoxb-test", f"https://localhost:{port}/api/"))
    assert gateway.post("C1", "over TLS").ts == "1.000100"
    assert [m.get("text") for m in slack.seen] == ["over TLS"]


def test_an_unknown_ca_is_refused(tls_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    port, _, slack = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    gateway = SlackGateway(make_client("xoxb-test", f"https://localhost:{port}/api/"))
    with pytest.raises(ChatError) as info:
        gateway.post("C1", "to an impostor")
    assert info.value.code == "connection_error" and slack.seen == []


def test_a_certificate_for_another_name_is_refused(tls_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    port, ca_file, slack = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    # The certificate names `localhost`; the address is right but the name is not.
    gateway = SlackGateway(make_client("xoxb-test", f"https://127.0.0.1:{port}/api/"))
    with pytest.raises(ChatError) as info:
        gateway.post("C1", "to the wrong name")
    assert info.value.code == "connection_error" and slack.seen == []
