"""Fault injection and call recording, seen through slack_sdk's own retry handlers."""

import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator


def test_rate_limit_honours_retry_after(emu):
    client = WebClient(
        token=emu.bot_token,
        base_url=emu.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    emu.fail("chat.postMessage", status=429, retry_after=1, times=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C_GENERAL", text="timeline event")["ok"]
    assert time.monotonic() - started >= 1.0
    calls = emu.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].error == "ratelimited" and calls[1].ok
    assert len(emu.messages("C_GENERAL")) == 1  # the throttled attempt left nothing behind


def test_rate_limit_without_retry_handler_surfaces(emu, client):
    emu.fail("chat.postMessage")  # 429 is the default fault
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C_GENERAL", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(emu, status):
    client = WebClient(
        token=emu.bot_token,
        base_url=emu.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    emu.fail("conversations.create", status=status, times=2)
    assert client.conversations_create(name="inc-1")["ok"]
    assert [c.status for c in emu.calls_to("conversations.create")] == [status, status, 200]


def test_error_fault_then_recovery(emu, client):
    emu.fail("chat.postMessage", error="channel_not_found", times=1)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C_GENERAL", text="x")
    assert info.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C_GENERAL", text="x")["ok"]


def test_wildcard_and_permanent_faults(emu, client):
    emu.fail("*", status=503, times=None)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            client.auth_test()
    emu.clear_faults()
    assert client.auth_test()["ok"]


def test_latency(emu, client):
    emu.latency("users.list", 0.2)
    started = time.monotonic()
    client.users_list()
    assert time.monotonic() - started >= 0.2


def test_calls_are_recorded_thread_safely(emu, client):
    threads = [
        threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C_GENERAL", "text": str(i)})
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls = emu.calls_to("chat.postMessage")
    assert len(calls) == 20 and all(c.ok for c in calls)
    assert sorted(c.params["text"] for c in calls) == sorted(str(i) for i in range(20))
    timestamps = [m["ts"] for m in emu.messages("C_GENERAL")]
    assert len(set(timestamps)) == 20 and timestamps == sorted(timestamps)
    emu.reset_calls()
    assert emu.calls == []


def test_wait_for(emu):
    threading.Timer(0.05, emu.add_channel, args=("inc-7-db",)).start()
    assert emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=2).name == "inc-7-db"
    with pytest.raises(TimeoutError):
        emu.wait_for(lambda: emu.find_channel("never"), timeout=0.05)
