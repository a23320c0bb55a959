"""The `warroom` entry points as a user runs them: migrate, run (a real process), console."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from sqlalchemy import create_engine, inspect

from devkit.slack_emulator import SlackDriver, SlackEmulator

SECRET = "cli-test-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrate_creates_the_schema(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert {"incidents", "timeline_events", "audit_log"} <= set(inspect(create_engine(url)).get_table_names())


def test_run_serves_signed_requests_and_refuses_without_secrets(tmp_path) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "SLACK_BOT_TOKEN" in missing.stderr

    port = _free_port()
    with SlackEmulator() as emu:
        user = emu.add_user("dana").id
        env = {
            **os.environ,
            "SLACK_API_URL": emu.api_url,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
            "PORT": str(port),
        }
        env.pop("WARROOM_CONFIG", None)
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"], env=env)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                        assert response.status == 200
                    break
                except OSError:
                    assert time.monotonic() < deadline and bot.poll() is None
                    time.sleep(0.1)
            driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, emu)
            assert (
                driver.command(
                    "/incident", "p1 Checkout down", user_id=user, signature="v0=" + "1" * 64
                ).status
                == 401
            )
            response = driver.command("/incident", "p1 Checkout down", user_id=user)
            assert response.status == 200
            channel = emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=10)
            assert channel.name.endswith("-checkout-down") and user in emu.wait_for(
                lambda: user in channel.members and channel.members, timeout=10
            )
        finally:
            bot.terminate()
            assert bot.wait(timeout=15) == 0


def test_console_declares_and_acks_offline(tmp_path) -> None:
    script = "/incident p1 Checkout returns 502\n:press acknowledge\n/incident timeline\n:quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--database-url", f"sqlite:///{tmp_path / 'c.db'}"],
        input=script,
        capture_output=True,
        text=True,
        timeout=90,
        env={k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "#inc-" in out and "P1" in out and "Checkout returns 502" in out
    assert "acknowledged INC-1" in out
    assert "*declared*" in out and "*acknowledged*" in out
