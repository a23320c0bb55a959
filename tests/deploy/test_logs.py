"""JSON logs of a real incident: one object per line, request and incident ids bound, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config.settings import Settings
from bot.logs import configure_logging
from tests.harness import SIGNING_SECRET, Harness


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_logs_are_json_with_ids_and_without_secrets(sqlite_url: str, restore_logging: None) -> None:
    stream = io.StringIO()
    with Harness(sqlite_url) as h:
        token = h.emulator.bot_token
        configure_logging(
            Settings(slack_bot_token=token, slack_signing_secret=SIGNING_SECRET), stream=stream, level="DEBUG"
        )
        incident = h.declare("p1 Checkout API returns 502")
        h.command(f"note rolled back; the token was {token}", channel=incident.channel_id)
        h.wait_idle()
        logging.getLogger("warroom.test").info(
            "connecting with password=hunter2 to postgresql://u:pw123456@db/x"
        )
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"event", "level", "timestamp", "logger"} <= set(r) for r in records)
    assert any(r.get("request_id") for r in records)
    assert any(r.get("incident_id") == incident.id and r.get("request_id") for r in records), (
        "no log line of the note request carries the incident id"
    )
    text = stream.getvalue()
    for secret in (token, SIGNING_SECRET, "hunter2", "pw123456"):
        assert secret not in text, f"secret {secret[:6]}… logged"
