"""What a person sees of a slash command, and how long it took; /readyz as a load balancer sees it."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from devkit.slack_emulator import SlackDriver, SlackEmulator


@dataclass
class Answer:
    latency: float  # seconds from sending the command to the answer the person reads
    text: str
    status: int  # the HTTP status of the ack
    payload: dict[str, Any] = field(default_factory=dict)  # the whole answer (text and blocks)

    @property
    def shown(self) -> str:
        """Everything the person reads, blocks included."""
        return json.dumps(self.payload, ensure_ascii=False) if self.payload else self.text


def ask(
    driver: SlackDriver,
    emu: SlackEmulator,
    name: str,
    text: str,
    user: str,
    channel: str,
    timeout: float = 8.0,
) -> Answer:
    """Send a signed slash command; the answer is the ack's own text, or else the first
    response_url post (the "⏳ Declaring…" ack is a placeholder, not an answer)."""
    started = time.time()
    response = driver.command(name, text, user_id=user, channel_id=channel)
    body: Any = None
    if response.body.strip():
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.body}
    ack_text = str(body.get("text", "")) if isinstance(body, dict) else ""
    if ack_text and not ack_text.startswith("⏳"):
        return Answer(response.elapsed, ack_text, response.status, body)
    hook = (response.response_url or "").rstrip("/").rsplit("/", 1)[-1]

    def posted() -> Any:
        return next(
            (
                c
                for c in list(emu.calls)
                if c.method == "response_url" and c.params.get("response_id") == hook
            ),
            None,
        )

    try:
        call = emu.wait_for(posted, timeout=timeout, interval=0.01)
    except TimeoutError:
        return Answer(math.inf, ack_text, response.status)
    return Answer(call.time - started, str(call.params.get("text", "")), response.status, dict(call.params))


@dataclass
class Ready:
    status: int
    elapsed: float
    checks: dict[str, bool]


def readyz(base_url: str) -> Ready:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=10) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    elapsed = time.monotonic() - started
    return Ready(status, elapsed, json.loads(raw or b"{}").get("checks", {}))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def until_not_ready(base_url: str, within: float = 5.0) -> Ready:
    """Poll /readyz until it says 503 (a probe answer is reused for half a second); every poll
    must itself answer within 2 s. The first 503 is returned."""
    deadline = time.monotonic() + within
    while True:
        ready = readyz(base_url)
        assert ready.elapsed < 2.0, ready
        if ready.status == 503 or time.monotonic() > deadline:
            return ready
        time.sleep(0.05)
