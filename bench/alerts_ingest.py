"""How fast an Alertmanager webhook is acknowledged by a real `warroom run` (goal: p99 < 50 ms).

The bot runs as its own process on a fresh PostgreSQL database, Slack is the emulator in this
process with every Web API call slowed to 100 ms (the ack must not wait for Slack). Baseline (same
run): GET /healthz on the same server — the HTTP stack alone. Figures, p50 / p99 / max from POST to
its 200: new alert groups (some declared, each opening a war room behind the ack), new alerts
joining existing groups (folded), and Alertmanager's repeats of an unchanged group (duplicates).

    .venv/bin/python -m bench.alerts_ingest [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.ack_latency import _fmt, _free_port, _pct
from bench.process import start_bot
from devkit.slack_emulator import SlackEmulator

PG_ADMIN = os.environ.get("WARROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TOKEN = uuid.uuid4().hex
POLICY = """
escalation:
  tiers:
    - {name: tier1, targets: [U0BENCH], timeout: 15m}
alerts:
  sources:
    - {name: prometheus, kind: alertmanager, token_env: BENCH_ALERTS_TOKEN}
  routes:
    - {match: {severity: critical}, severity: p2, declare: auto}
    - {match: {severity: info}, declare: ignore}
  storm_threshold: 1000
"""


def _webhook(group: str, instances: list[str], severity: str) -> bytes:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": group, "severity": severity, "instance": instance},
            "annotations": {"summary": f"{group} firing"},
            "startsAt": "2026-12-03T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{group}-{instance}",
        }
        for instance in instances
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{group}"}}',
            "status": "firing",
            "receiver": "warroom",
            "groupLabels": {"alertname": group},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": alerts,
        }
    ).encode()


def _post(url: str, body: bytes) -> float:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as reply:
        reply.read()
        assert reply.status == 200
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    name = f"warroom_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    port = _free_port()
    config = Path(tempfile.mkdtemp()) / "policy.yml"
    config.write_text(POLICY)
    try:
        with SlackEmulator() as emu:
            emu.add_user("bench", id="U0BENCH")
            for method in (
                "conversations.create",
                "chat.postMessage",
                "conversations.invite",
                "pins.add",
                "chat.update",
            ):
                emu.latency(method, 0.1)
            env = {
                **os.environ,
                "SLACK_API_URL": emu.api_url,
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": "bench",
                "DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
                "PORT": str(port),
                "WARROOM_CONFIG": str(config),
                "BENCH_ALERTS_TOKEN": TOKEN,
                "WARROOM_LOG_FORMAT": "text",
            }
            bot = start_bot(env, port, timeout=60)
            url = f"http://127.0.0.1:{port}"
            try:
                alerts = url + "/alerts/prometheus"
                baseline = []
                for _ in range(args.n):
                    started = time.perf_counter()
                    urllib.request.urlopen(url + "/healthz", timeout=5).read()
                    baseline.append(time.perf_counter() - started)
                base = statistics.median(baseline)
                # One group in ten is critical (a war room opens behind the ack), the rest informational.
                new_groups = [
                    _post(alerts, _webhook(f"G{i}", ["a"], "critical" if i % 10 == 0 else "info"))
                    for i in range(args.n)
                ]
                joining = [_post(alerts, _webhook(f"G{i}", ["a", "b"], "info")) for i in range(args.n)]
                repeats = [_post(alerts, _webhook(f"G{i}", ["a", "b"], "info")) for i in range(args.n)]
                everything = new_groups + joining + repeats
                print(
                    "alerts ingest: POST /alerts/prometheus → 200, bot in its own process on PostgreSQL, Slack 100 ms/call"
                )
                print(_fmt("baseline GET /healthz", baseline, base))
                print(_fmt("new groups (10% declared)", new_groups, base))
                print(_fmt("new alert in a group", joining, base))
                print(_fmt("repeat (duplicate)", repeats, base))
                p99 = _pct(everything, 0.99)
                print(
                    f"all deliveries: p99={p99 * 1000:.1f} ms (goal < 50 ms) — {'met' if p99 < 0.05 else 'NOT met'}"
                )
            finally:
                bot.terminate()
                try:
                    bot.wait(timeout=30)
                except subprocess.TimeoutExpired:  # still opening war rooms at 100 ms a call
                    bot.kill()
                    bot.wait(timeout=10)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
