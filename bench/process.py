"""A real `warroom run` for the benchmarks: started with the given environment, waited for on /healthz."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request


def start_bot(env: dict[str, str], port: int, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    bot = subprocess.Popen(  # fixed arguments, no user text
        [sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return bot
        except OSError:
            if bot.poll() is not None or time.monotonic() > deadline:
                bot.kill()
                raise
            time.sleep(0.1)
