"""Ack latency of signed Slack requests to a real `warroom run` process, with Slack made slow.

The bot runs as its own process (as in production), talking to the Slack emulator in this process.
Baseline (same run): GET /healthz on the same server — the cost of the HTTP stack alone.
Figures: p50 / p99 / max from sending a signed request to its HTTP 200 (the ack), for declarations
(`/incident p2 …`, each followed by ~6 Web API calls after the ack) and notes, with every Web API
call the declaration makes slowed to 300 ms — the ack must never wait for Slack.

    .venv/bin/python -m bench.ack_latency [--n 100]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
import urllib.request

from bench.process import start_bot
from devkit.slack_emulator import SlackDriver, SlackEmulator

SECRET = "bench-signing-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fmt(name: str, values: list[float], base: float) -> str:
    p50, p99 = statistics.median(values), _pct(values, 0.99)
    return (
        f"{name:<24} n={len(values):<4} p50={p50 * 1000:7.1f} ms  p99={p99 * 1000:7.1f} ms  "
        f"max={max(values) * 1000:7.1f} ms  p50/baseline={p50 / base:5.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    port = _free_port()
    with SlackEmulator() as emu:
        user = emu.add_user("bench").id
        env = {
            **os.environ,
            "SLACK_API_URL": emu.api_url,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bench.db",
            "PORT": str(port),
        }
        env.pop("WARROOM_CONFIG", None)
        bot = start_bot(env, port, timeout=30)
        url = f"http://127.0.0.1:{port}"
        try:
            driver = SlackDriver(url + "/slack/events", SECRET, emu)
            baseline = []
            for _ in range(args.n):
                started = time.perf_counter()
                urllib.request.urlopen(url + "/healthz", timeout=5).read()
                baseline.append(time.perf_counter() - started)
            base = statistics.median(baseline)
            driver.command("/incident", "p3 warm-up", user_id=user)
            time.sleep(2)
            for method in ("conversations.create", "chat.postMessage", "conversations.invite", "pins.add"):
                emu.latency(method, float(os.environ.get("BENCH_SLACK_LATENCY", "0.3")))
            declares = [
                driver.command("/incident", f"p2 Bench {i}", user_id=user).elapsed for i in range(args.n // 4)
            ]
            room = emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=30).id
            notes = [
                driver.command("/incident", f"note bench {i}", user_id=user, channel_id=room).elapsed
                for i in range(args.n)
            ]
            print(
                "ack latency: signed request → HTTP 200, bot in its own process, Slack slowed to 300 ms/call"
            )
            print(_fmt("baseline GET /healthz", baseline, base))
            print(_fmt("/incident p2 <title>", declares, base))
            print(_fmt("/incident note <text>", notes, base))
            print(f"Slack's limit is 3000 ms; worst ack seen: {max(declares + notes) * 1000:.1f} ms")
        finally:
            bot.terminate()
            bot.wait(timeout=10)


if __name__ == "__main__":
    main()
