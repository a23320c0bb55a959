"""The HTTP front against floods and garbage, on a real `warroom run`: sizes, signatures, malformed bodies.

What an attacker without the signing secret can make the bot do must be cheap: refuse big bodies
unread (413), refuse bad signatures (401) with one counted log line a minute and never a body,
and answer malformed bodies 400/401 — never a 500, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from devkit.slack_emulator import SlackEmulator
from devkit.slack_emulator.driver import sign
from tests.escalation.helpers import SIGNING_SECRET
from tests.escalation.processes import BotProcess
from tests.support.raw_http import raw_post

MARKER = "BODY-MARKER-7f3a"


@pytest.fixture
def bot(tmp_path: Path, sqlite_url: str) -> Iterator[BotProcess]:
    config = tmp_path / "policy.yml"
    config.write_text("")
    with SlackEmulator() as emu:
        process = BotProcess("limits", emu, sqlite_url, config, tmp_path).wait_healthy()
        try:
            yield process
        finally:
            process.stop()


def _signed(body: str, content_type: str, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
    }


def test_big_bodies_are_refused_unread(bot: BotProcess) -> None:
    ten_mb = (MARKER * (10 * 1024 * 1024 // len(MARKER))).encode()
    started = time.monotonic()
    for path in ("/slack/events", "/alerts/grafana", "/anything"):
        status = raw_post(
            bot.port, path, {"Content-Type": "text/plain", "Content-Length": str(len(ten_mb))}, ten_mb
        )
        assert status == 413, path
    # Chunked, with no Content-Length to judge by: the cap applies while reading.
    chunk = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for part in [ten_mb[i : i + 65536] for i in range(0, 2 * 1024 * 1024, 65536)]
    )
    status = raw_post(
        bot.port,
        "/slack/events",
        {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
        chunk + b"0\r\n\r\n",
    )
    assert status == 413
    assert time.monotonic() - started < 10
    # Just under the limit is not refused for its size (it is unsigned: 401).
    body = "x" * (1024 * 1024 - 10)
    assert (
        httpx.post(
            f"{bot.url}/slack/events", content=body, headers={"Content-Type": "text/plain"}
        ).status_code
        == 401
    )
    assert MARKER not in bot.log()


def test_bad_signatures_are_counted_not_logged(bot: BotProcess) -> None:
    body = urlencode({"command": "/incident", "text": f"p1 {MARKER}", "user_id": "U1", "channel_id": "C1"})
    with httpx.Client() as client:
        for n in range(40):
            headers = _signed(body, "application/x-www-form-urlencoded")
            headers["X-Slack-Signature"] = (
                "v0=" + "0" * 64 if n % 2 else headers["X-Slack-Signature"][:-4] + "beef"
            )
            reply = client.post(f"{bot.url}/slack/events", content=body, headers=headers)
            assert reply.status_code == 401
    time.sleep(0.5)
    log = bot.log()
    assert MARKER not in log
    summaries = [line for line in log.splitlines() if "bad signatures in the last minute" in line]
    assert len(summaries) == 1, log  # the first refusal is told at once, the rest wait for the next minute


MALFORMED = [
    ("payload={not-json", "application/x-www-form-urlencoded", None, 400),
    ("payload=" + json.dumps([1]), "application/x-www-form-urlencoded", None, 400),
    ("{not json", "application/json", None, 400),
    ("[1, 2]", "application/json", None, 400),
    ("\udcff", "application/x-www-form-urlencoded", None, 400),
    ("command=/incident&text=list", "application/x-www-form-urlencoded", "abc", 401),
    ("command=/incident&text=list", "application/x-www-form-urlencoded", "-5", 401),
    ("command=/incident&text=list", "application/x-www-form-urlencoded", "9" * 40, 401),
    ("command=/incident&text=list", "application/x-www-form-urlencoded", "", 401),
]


def test_malformed_bodies_are_400_or_401_never_500(bot: BotProcess) -> None:
    answers = []
    for body, content_type, timestamp, _ in MALFORMED:
        raw = body.encode("utf-8", "surrogateescape")
        ts = str(int(time.time())) if timestamp is None else timestamp
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        }
        answers.append(httpx.post(f"{bot.url}/slack/events", content=raw, headers=headers).status_code)
    assert answers == [expected for *_, expected in MALFORMED]
    time.sleep(0.2)
    log = bot.log()
    assert "Traceback" not in log and "ERROR" not in log, log
