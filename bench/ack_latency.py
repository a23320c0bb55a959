"""Ack latency of signed Slack requests through the real HTTP endpoint, against the emulator.

Baseline (same run): GET /healthz on the same server — the cost of the HTTP stack alone.
Figures: p50 / p99 / max of the time from sending a signed request to its HTTP 200 (the ack),
for declarations (`/incident p1 …`) and notes, with Slack made slow (300 ms per Web API call)
to show that the ack never waits for Slack.

    .venv/bin/python -m bench.ack_latency [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.request

from bot.db import create_db_engine, migrate
from tests.harness import Harness


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fmt(name: str, values: list[float], base: float) -> str:
    p50, p99 = statistics.median(values), _pct(values, 0.99)
    return f"{name:<28} n={len(values):<4} p50={p50 * 1000:7.1f} ms  p99={p99 * 1000:7.1f} ms  max={max(values) * 1000:7.1f} ms  p50/baseline={p50 / base:5.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate(create_db_engine(url))
    with Harness(url) as h:
        baseline = []
        for _ in range(args.n):
            started = time.perf_counter()
            urllib.request.urlopen(h.url + "/healthz", timeout=5).read()  # noqa: S310 - loopback
            baseline.append(time.perf_counter() - started)
        base = statistics.median(baseline)
        for method in ("conversations.create", "chat.postMessage", "conversations.invite", "pins.add"):
            h.emulator.latency(method, 0.3)
        h.command("p3 warm-up: first request pays Bolt's one-time auth.test and imports")
        h.wait_idle(timeout=30)
        declares = []
        for i in range(args.n // 4):
            response = h.command(f"p2 Bench incident {i}")
            assert response.status == 200
            declares.append(response.elapsed)
        h.wait_idle(timeout=60)
        room = h.latest_incident().channel_id
        notes = []
        for i in range(args.n):
            response = h.command(f"note bench note {i}", channel=room)
            assert response.status == 200
            notes.append(response.elapsed)
        print("ack latency (HTTP 200 to a signed request; Slack Web API slowed to 300 ms per call)")
        print(_fmt("baseline GET /healthz", baseline, base))
        print(_fmt("/incident p2 <title>", declares, base))
        print(_fmt("/incident note <text>", notes, base))
        print(f"Slack's limit is 3000 ms; worst ack seen: {max(declares + notes) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
