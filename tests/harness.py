"""End-to-end harness: the Slack emulator, the real Bolt app behind the real HTTP server, a signed driver.

    with Harness(db_url, policy=...) as h:
        h.command("/incident", "p1 Checkout down", user=h.alice)

Every test that uses it goes through signature checks, Bolt, the handlers, the database and
Slack Web API calls over HTTP — only Slack itself is replaced, by the project's emulator.
"""

from __future__ import annotations

from typing import Any

from bot.app import build_bolt_app, build_runtime
from bot.clock import Clock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.http import HttpServer, make_wsgi_app
from bot.incidents.models import Incident
from bot.runtime import Runtime
from devkit.slack_emulator import DriverResponse, SlackDriver, SlackEmulator

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Harness:
    def __init__(self, database_url: str, policy: Policy | None = None, clock: Clock | None = None):
        self.emulator = SlackEmulator().start()
        emu = self.emulator
        self.alice = emu.add_user("alice", id="U0ALICE").id
        self.bob = emu.add_user("bob", id="U0BOB").id
        self.carol = emu.add_user("carol", id="U0CAROL").id
        self.general = "C_GENERAL"
        settings = Settings(
            slack_bot_token=emu.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=emu.api_url,
            database_url=database_url,
        )
        self.runtime: Runtime = build_runtime(settings, policy or Policy(), clock=clock)
        self.app = build_bolt_app(self.runtime)
        self.server = HttpServer(
            make_wsgi_app(self.app, self.runtime), host="127.0.0.1", port=0, loop_timeout=0.1
        ).start()
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.driver = SlackDriver(f"{self.url}/slack/events", SIGNING_SECRET, emu)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.stop()
        self.runtime.executor.shutdown(wait=True, cancel_futures=True)
        self.runtime.engine.dispose()
        self.emulator.stop()

    # what people do ------------------------------------------------------------------------
    def command(
        self, text: str, user: str | None = None, channel: str | None = None, name: str = "/incident"
    ) -> DriverResponse:
        return self.driver.command(name, text, user_id=user or self.alice, channel_id=channel or self.general)

    def reply(self, response: DriverResponse, timeout: float = 5.0) -> str:
        """The text of the last ephemeral answer to a command (ack body or response_url post)."""
        ack_text = ""
        if response.body.strip():
            try:
                body = response.json()
                ack_text = str(body.get("text", "")) if isinstance(body, dict) else ""
            except ValueError:
                ack_text = response.body
        # An error found before any I/O comes in the ack itself; otherwise the answer follows via response_url.
        posts = response.wait_responses(
            1, timeout=0.5 if ack_text and not ack_text.startswith("⏳") else timeout
        )
        if posts:
            return str(posts[-1].get("text", ""))
        return ack_text

    def declare(self, text: str = "p1 Checkout API returns 502", user: str | None = None) -> Incident:
        response = self.command(text, user=user)
        assert response.status == 200, response.body
        # The last step of a declaration is the answer to the declarer: wait for it.
        answer = self.reply(response, timeout=15)
        # en or zh (`language: zh`): opened, or "you declared this a moment ago"
        assert any(word in answer for word in ("Opened", "declared this", "已开启", "刚刚已宣布")), answer
        self.wait_idle()
        incident = self.latest_incident()
        assert incident is not None
        return incident

    # what people see -----------------------------------------------------------------------
    def incident_channel(self) -> Any:
        return self.emulator.find_channel_prefix("inc-")

    def latest_incident(self) -> Incident | None:
        with self.runtime.session() as session:
            from sqlalchemy import select

            return session.scalar(select(Incident).order_by(Incident.id.desc()).limit(1))

    def wait_until(self, predicate, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        return self.emulator.wait_for(predicate, timeout=timeout)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until the listener threads have finished their post-ack work."""
        import time

        deadline = time.monotonic() + timeout
        pool = getattr(self.app, "listener_executor", None) or getattr(self.app, "_listener_runner", None)
        pool = getattr(pool, "listener_executor", pool)
        last = -1
        while time.monotonic() < deadline:
            count = len(self.emulator.calls)
            # Quiet on the wire and no listener still running (a slow /diag posts its result later).
            if count == last and getattr(pool, "pending", 0) == 0:
                return
            last = count
            time.sleep(0.3)
