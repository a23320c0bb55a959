"""Real `warroom run` processes for the durability tests: started, health-checked, SIGKILLed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devkit.slack_emulator import SlackDriver, SlackEmulator
from tests.escalation.helpers import SIGNING_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """One `warroom run` in HTTP mode against the emulator; its log goes to a file for failures."""

    def __init__(self, name: str, emu: SlackEmulator, database_url: str, config: Path, log_dir: Path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        exe = shutil.which("warroom", path=os.path.dirname(sys.executable))
        command = [exe] if exe else [sys.executable, "-m", "bot.cli"]
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SLACK_API_URL": emu.api_url,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "WARROOM_CONFIG": str(config),
            "PORT": str(self.port),
            "WARROOM_TICK_SECONDS": "1",
            "WARROOM_LOG_FORMAT": "text",
        }
        env.pop("SLACK_APP_TOKEN", None)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # fixed arguments, no user text
            [*command, "run", "--host", "127.0.0.1"], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.driver = SlackDriver(f"{self.url}/slack/events", SIGNING_SECRET, emu)

    def wait_healthy(self, timeout: float = 30.0) -> BotProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, exactly what a crashed host looks like."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.driver.close()
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]
