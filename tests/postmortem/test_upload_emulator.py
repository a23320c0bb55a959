"""The upload as Slack sees it: files.getUploadURLExternal, the bytes, files.completeUploadExternal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from bot.postmortem import flows
from bot.slack.client import make_client
from bot.slack.gateway import SlackGateway
from devkit.slack_emulator import SlackEmulator
from tests.postmortem.helpers import ONCALL, at, make_runtime, realistic


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def test_draft_is_uploaded_through_the_external_upload_flow(sqlite_url: str, emu: SlackEmulator) -> None:
    room = emu.add_channel("inc-20260105-1-checkout-returns-502", id="C0INC0001").id
    gateway = SlackGateway(make_client(emu.bot_token, emu.api_url))
    runtime = make_runtime(sqlite_url, clock=ManualClock(at(151)), ports=gateway)
    with runtime.session() as session:
        incident_id = realistic(session).id

    result = flows.publish(runtime, incident_id, ONCALL)

    [get_url] = emu.calls_to("files.getUploadURLExternal")
    assert get_url.ok and get_url.params["filename"] == f"inc-{incident_id}-postmortem-v1.md"
    assert int(get_url.params["length"]) == len(emu.uploaded_files(room)[0].content)
    [complete] = emu.calls_to("files.completeUploadExternal")
    assert complete.ok and complete.params["channel_id"] == room
    assert "*Postmortem draft v1*" in complete.params["initial_comment"]

    [uploaded] = emu.uploaded_files(room)
    assert result.file_id == uploaded.id
    assert uploaded.title == f"INC-{incident_id} postmortem draft v1 — Checkout returns 502"
    body = uploaded.content.decode("utf-8")
    assert body.startswith(f"# INC-{incident_id} postmortem: Checkout returns 502")
    assert "| Severity | P1 — 严重 major (respond within 1h) |" in body
    # the summary message is the one the channel shows with the file
    [message] = [m for m in emu.messages(room) if m.get("files")]
    assert "lasted 2h 30m" in message["text"] and message["files"][0]["id"] == uploaded.id
    runtime.engine.dispose()


def test_a_channel_the_bot_cannot_post_in_is_reported_not_raised(sqlite_url: str, emu: SlackEmulator) -> None:
    emu.add_channel("inc-20260105-1-checkout-returns-502", id="C0INC0001", bot_member=False)
    gateway = SlackGateway(make_client(emu.bot_token, emu.api_url))
    runtime = make_runtime(sqlite_url, clock=ManualClock(at(151)), ports=gateway)
    with runtime.session() as session:
        incident_id = realistic(session).id
    result = flows.publish(runtime, incident_id, ONCALL)
    assert not result.uploaded and result.error == "not_in_channel"
    runtime.engine.dispose()
