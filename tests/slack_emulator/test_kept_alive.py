"""The bot's Slack client keeps connections alive, and under network faults it still calls once.

A raw socket server stands in for the far end where the emulator is too polite: one that closes a
kept-alive connection while it is idle (a load balancer's idle timeout), one that never answers,
one that refuses connections. What is asserted is what Slack would have received.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from bot.ports import ChatError
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway
from devkit.slack_emulator import SlackEmulator

from .raw_server import RawServer


@pytest.mark.parametrize("server", ["keep-alive"], indirect=True)
def test_calls_reuse_one_connection(server: RawServer) -> None:
    gateway = SlackGateway(make_client("xoxb-test", server.url))
    for n in range(5):
        gateway.post("C1", f"update {n}")
    assert [json.loads(b)["text"] for b in server.requests] == [f"update {n}" for n in range(5)]
    assert server.connections == 1  # five calls, one handshake


@pytest.mark.parametrize("server", ["close-when-idle"], indirect=True)
def test_a_connection_closed_while_idle_is_replaced_and_the_call_made_once(server: RawServer) -> None:
    gateway = SlackGateway(make_client("xoxb-test", server.url))
    assert gateway.post("C1", "first").ts == "1.000100"
    time.sleep(0.5)  # the far end has closed the kept-alive connection meanwhile
    assert gateway.post("C1", "second").ts == "1.000100"
    assert [json.loads(b)["text"] for b in server.requests] == ["first", "second"]
    assert server.connections == 2


@pytest.mark.parametrize("server", ["never-answer"], indirect=True)
def test_a_call_that_times_out_is_not_sent_again(server: RawServer) -> None:
    """It may have happened (Slack got it, its answer was lost): the caller decides, not the transport."""
    gateway = SlackGateway(make_client("xoxb-test", server.url, timeout=1))
    started = time.monotonic()
    with pytest.raises(ChatError) as info:
        gateway.post("C1", "page")
    assert info.value.code == "connection_error" and time.monotonic() - started < 5
    time.sleep(0.3)
    assert [json.loads(b)["text"] for b in server.requests] == ["page"]


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    gateway = SlackGateway(make_client("xoxb-test", f"http://127.0.0.1:{port}/api/"))
    with pytest.raises(ChatError) as info:
        gateway.post("C1", "page")
    assert info.value.code == "connection_error"


def test_slack_errors_and_rate_limits_read_as_before(emu: SlackEmulator) -> None:
    gateway = SlackGateway(make_client(emu.bot_token, emu.api_url))
    emu.fail("chat.postMessage", status=429, retry_after=1, times=1)
    started = time.monotonic()
    gateway.post("C_GENERAL", "after the limit")
    assert time.monotonic() - started >= 1.0  # Retry-After honoured, then sent once
    emu.fail("chat.postMessage", error="channel_not_found", times=1)
    with pytest.raises(ChatError) as info:
        gateway.post("C_GENERAL", "nowhere")
    assert info.value.code == "channel_not_found"
    emu.fail("chat.postMessage", status=503, times=1)
    gateway.post("C_GENERAL", "after a 503")
    assert [m["text"] for m in emu.messages("C_GENERAL")] == ["after the limit", "after a 503"]
