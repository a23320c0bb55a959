"""The page DM's lean Web API call keeps every rule of the other calls: 429s, 5xx, errors, timeouts.

`SlackGateway.page` posts through `bot.slack.client.post_json` rather than slack_sdk's request
objects. What is asserted is what a person paged would see (the DMs the emulator holds), how long
the call waited, and what the caller is told — the same as for `chat_postMessage` in
test_kept_alive.py.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.incidents.views import IncidentView
from bot.ports import ChatError, PageRequest
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway
from devkit.slack_emulator import SlackEmulator

from .raw_server import RawServer


def _request(user: str, title: str = "Checkout returns 502") -> PageRequest:
    now = datetime.now(UTC)
    view = IncidentView(
        id=7,
        title=title,
        severity="p1",
        severity_label="Critical",
        status="declared",
        reporter_id="U0REPORTER",
        commander_id=None,
        channel_id="C0ROOM",
        channel_name="inc-7-checkout",
        declared_at=now,
        response_due_at=now,
    )
    return PageRequest(user, view, "tier1", "escalation", None)


@pytest.fixture
def paged(emu: SlackEmulator) -> tuple[SlackGateway, str]:
    user = emu.add_user("oncall", id="U0ONCALL").id
    return SlackGateway(make_client(emu.bot_token, emu.api_url)), user


def _dm_texts(emu: SlackEmulator, user: str) -> list[str]:
    return [m["text"] for m in emu.dms(user)]


def test_a_page_reaches_the_person_with_its_button(
    emu: SlackEmulator, paged: tuple[SlackGateway, str]
) -> None:
    gateway, user = paged
    posted = gateway.page(_request(user))
    [message] = emu.dms(user)
    assert posted.ts == message["ts"] and "Checkout returns 502" in message["text"]
    assert any(
        e.get("action_id") == "incident_ack"
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )


def test_a_429_waits_its_retry_after_then_pages_once_and_holds_the_other_callers(
    emu: SlackEmulator, paged: tuple[SlackGateway, str]
) -> None:
    gateway, user = paged
    emu.fail("chat.postMessage", status=429, retry_after=1, times=1)
    started = time.monotonic()
    gateway.page(_request(user))
    assert time.monotonic() - started >= 1.0
    assert len(_dm_texts(emu, user)) == 1
    # A 429 closes chat.postMessage's gate for every caller of this client, not just the page.
    emu.fail("chat.postMessage", status=429, retry_after=2, times=1)
    holder = threading.Thread(target=gateway.page, args=(_request(user, "Second"),))
    holder.start()
    time.sleep(0.3)  # the page got its 429; the gate is closed for two seconds
    started = time.monotonic()
    gateway.post("C_GENERAL", "a status update")
    assert time.monotonic() - started >= 1.0
    holder.join(10)
    assert len(_dm_texts(emu, user)) == 2
    assert [m["text"] for m in emu.messages("C_GENERAL")] == ["a status update"]


def test_a_503_is_retried_and_a_slack_error_is_told_with_its_code(
    emu: SlackEmulator, paged: tuple[SlackGateway, str]
) -> None:
    gateway, user = paged
    emu.fail("chat.postMessage", status=503, times=1)
    gateway.page(_request(user))
    assert len(_dm_texts(emu, user)) == 1
    emu.fail("chat.postMessage", error="user_disabled", times=1)
    with pytest.raises(ChatError) as info:
        gateway.page(_request(user))
    assert info.value.code == "user_disabled"
    emu.fail("chat.postMessage", status=500, times=None)
    with pytest.raises(ChatError):
        gateway.page(_request(user))  # retried a few times, then told: the outbox retries it later
    emu.clear_faults()
    assert len(_dm_texts(emu, user)) == 1


@pytest.mark.parametrize("server", ["never-answer"], indirect=True)
def test_a_page_that_times_out_is_not_sent_again(server: RawServer) -> None:
    """Slack may have shown it (the answer was lost): the outbox's record decides, not the transport."""
    gateway = SlackGateway(make_client("xoxb-test", server.url, timeout=1))
    started = time.monotonic()
    with pytest.raises(ChatError) as info:
        gateway.page(_request("U0ONCALL"))
    assert info.value.code == "connection_error" and time.monotonic() - started < 5
    time.sleep(0.3)
    # (Before it, the person's language was asked for — users.info, a form body — and timed out too.)
    pages = [json.loads(b) for b in server.requests if b.startswith(b"{")]
    assert [p["channel"] for p in pages] == ["U0ONCALL"]
