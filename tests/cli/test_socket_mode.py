"""`warroom run` in Socket Mode (SPEC: SLACK_APP_TOKEN set): a real process on a real WebSocket to the emulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import create_engine, text

from devkit.slack_emulator import SlackDriver, SlackEmulator, message_to_text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def _wait_healthy(bot: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert bot.poll() is None, "warroom run exited early"
        assert time.monotonic() < deadline, "no /healthz 200"
        time.sleep(0.1)


def _pin_rows(db_url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT incident_id, actor, text FROM timeline_events WHERE kind = 'pin'")
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def test_run_in_socket_mode_handles_commands_and_events(emu: SlackEmulator, tmp_path: Path) -> None:
    port, db_url = _free_port(), f"sqlite:///{tmp_path / 'w.db'}"
    user = emu.add_user("dana").id
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "WARROOM_CONFIG"},
        "SLACK_APP_TOKEN": emu.app_token,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": db_url,
        "PORT": str(port),
    }
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"], env=env)
    try:
        _wait_healthy(bot, port)
        assert emu.socket_mode.connected.wait(10), "the bot never opened a Socket Mode connection"
        assert [c.ok for c in emu.calls_to("apps.connections.open")] == [True]
        driver = SlackDriver("http://127.0.0.1:9/unused", "", emu)  # only its payload builders are used

        # /incident over the socket: the same payload HTTP tests send, acked on the socket within 3 s.
        command = driver.command_payload("/incident", "p1 Checkout down", user, "C_GENERAL")
        started = time.monotonic()
        envelope_id = emu.socket_mode.send_envelope("slash_commands", command)
        ack = emu.socket_mode.wait_ack(envelope_id, timeout=3)
        assert ack["envelope_id"] == envelope_id and time.monotonic() - started < 3

        channel = emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=10)
        assert channel.name.endswith("-checkout-down")
        emu.wait_for(lambda: user in channel.members, timeout=10)
        pinned = emu.wait_for(lambda: channel.pins, timeout=10)
        summary = message_to_text(channel.find(pinned[0]["ts"]) or {})
        assert "P1" in summary and "Checkout down" in summary
        incident_channels = [c for c in emu.channels.values() if c.name.endswith("-checkout-down")]
        assert [c.id for c in incident_channels] == [channel.id]

        # A pin in the incident channel lands on the timeline once, even when Slack redelivers it.
        note = emu.add_message(channel.id, user, "Rolled back deploy 4711")
        event = {
            "type": "pin_added",
            "user": user,
            "channel_id": channel.id,
            "item": {"type": "message", "channel": channel.id, "message": {"ts": note["ts"]}},
        }
        payload = driver.event_payload(event)
        first = emu.socket_mode.send_envelope("events_api", payload, accepts_response_payload=False)
        assert emu.socket_mode.wait_ack(first, timeout=3)["envelope_id"] == first
        retry = emu.socket_mode.send_envelope(
            "events_api", payload, False, retry_attempt=1, retry_reason="timeout"
        )
        emu.socket_mode.wait_ack(retry, timeout=3)
        rows = emu.wait_for(lambda: _pin_rows(db_url), timeout=10)
        time.sleep(0.3)  # the redelivery's listener runs after its ack: give it time to (not) write
        rows = _pin_rows(db_url)
        assert len(rows) == 1 and rows[0][1] == user and "Rolled back deploy 4711" in rows[0][2]
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            code = bot.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            raise
    assert code == 0
    # The process is gone, so is its socket.
    emu.wait_for(lambda: emu.socket_mode.clients == 0, timeout=5)


# The server's framing, checked with slack_sdk's own Socket Mode client -----------------------------


@pytest.fixture
def sdk_client(emu: SlackEmulator) -> Iterator[SocketModeClient]:
    client = SocketModeClient(
        app_token=emu.app_token, web_client=WebClient(base_url=emu.api_url), auto_reconnect_enabled=False
    )

    def echo(c: SocketModeClient, req: SocketModeRequest) -> None:  # acks with the payload it got
        c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=req.payload))

    client.socket_mode_request_listeners.append(echo)  # type: ignore[arg-type]
    client.connect()
    try:
        assert emu.socket_mode.connected.wait(5)
        yield client
    finally:
        emu.socket_mode.stop()  # the server's close frame ends the SDK's receive loop without a 3 s wait
        client.close()


@pytest.mark.parametrize("size", [100, 5_000, 70_000])  # 7/16-bit lengths, 16-bit, 64-bit
def test_envelopes_round_trip_through_the_sdk_client(
    emu: SlackEmulator, sdk_client: SocketModeClient, size: int
) -> None:
    payload = {"text": "x" * size, "unicode": "ü→✓"}
    envelope_id = emu.socket_mode.send_envelope("interactive", payload)
    ack = emu.socket_mode.wait_ack(envelope_id, timeout=5)
    assert ack == {"envelope_id": envelope_id, "payload": payload}


def test_ping_pong_hello_and_disconnect(emu: SlackEmulator, sdk_client: SocketModeClient) -> None:
    session = sdk_client.current_session
    assert session is not None
    # The SDK pings right after the handshake; the pong carries its session id back.
    emu.wait_for(lambda: session.last_ping_pong_time is not None, timeout=5)
    # A `disconnect` message makes the client fetch a new URL and reconnect.
    emu.socket_mode.disconnect()
    emu.wait_for(lambda: len(emu.calls_to("apps.connections.open")) == 2, timeout=5)
    emu.wait_for(lambda: sdk_client.current_session is not session and sdk_client.is_connected(), timeout=5)


def test_token_types_are_kept_apart(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as xapp_elsewhere:
        WebClient(token=emu.app_token, base_url=emu.api_url).auth_test()
    assert xapp_elsewhere.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as bot_token:
        WebClient(base_url=emu.api_url).apps_connections_open(app_token=emu.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    url = WebClient(base_url=emu.api_url).apps_connections_open(app_token=emu.app_token)["url"]
    assert url.startswith(f"ws://127.0.0.1:{emu.socket_mode.port}/link?ticket=")


def test_a_ticket_opens_one_connection(emu: SlackEmulator) -> None:
    url = WebClient(base_url=emu.api_url).apps_connections_open(app_token=emu.app_token)["url"]
    path = url.split(str(emu.socket_mode.port), 1)[1]
    answers: list[bytes] = []
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", emu.socket_mode.port), timeout=5) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            answers.append(sock.recv(4096))
    # RFC 6455's own example key/accept pair; the second use of the ticket is refused.
    assert answers[0].startswith(b"HTTP/1.1 101") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answers[0]
    assert answers[1].startswith(b"HTTP/1.1 401")
