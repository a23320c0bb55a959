"""Benchmark: drafting the postmortem of an incident with 10,000 timeline events (target: < 1 s).

    .venv/bin/python bench/postmortem_render.py [--events 10000] [--baseline 100] [--repeat 5]

Builds a SQLite database in a temporary directory, writes one incident with N events of every
kind people produce (notes, pins, status updates, pages, diagnostics with findings, remediations),
then times the two steps of a draft — reading the timeline (`collect`) and rendering the Markdown
(`render`) — for the baseline size and for N, in the same run, so the ratio shows how the cost grows
(linear growth gives a ratio near N / baseline). Prints the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.config.policy import Policy
from bot.db.engine import create_db_engine, make_session_factory, migrate
from bot.incidents import service as incidents
from bot.incidents.models import Incident, TimelineEvent
from bot.postmortem.content import collect
from bot.postmortem.render import render

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KINDS = ("note", "status_update", "pin", "reaction", "page", "diagnostic", "remediation", "checklist")


def _event(incident_id: int, n: int) -> dict[str, object]:
    kind = KINDS[n % len(KINDS)]
    data: dict[str, object] = {}
    if kind == "diagnostic":
        data = {
            "command": "/diag mysql orders",
            "outcome": "crit",
            "findings": [
                {
                    "level": "crit",
                    "message": f"Connections {400 + n % 100}/500",
                    "fix": "Raise max_connections",
                },
                {"level": "ok", "message": "No long queries", "fix": None},
            ],
        }
    elif kind == "page":
        data = {"user": f"U{n % 9:02d}ONCALL", "tier": "tier1"}
    return {
        "incident_id": incident_id,
        "at": T0 + timedelta(seconds=n),
        "actor": f"U{n % 13:02d}USER",
        "kind": kind,
        "text": f"Entry {n}: p99 {n % 900} ms on <https://grafana/d/{n}|dashboard> | pool {n % 500}/500",
        "link": f"https://warroom.slack.com/archives/C0INC/p{1767603600000000 + n}"
        if kind == "pin"
        else None,
        "data": data,
    }


def _incident(factory, count: int) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        incident, _ = incidents.declare(
            session,
            Policy(),
            severity="p1",
            title=f"Load test with {count} events",
            reporter_id="U01",
            origin_channel_id=None,
            now=T0,
        )
        session.flush()
        rows = [_event(incident.id, n) for n in range(1, count)]  # + the "declared" event
        for start in range(0, len(rows), 2000):
            session.execute(insert(TimelineEvent), rows[start : start + 2000])
        session.commit()
        return incident.id


def _time(factory, incident_id: int, repeat: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    best_collect = best_render = float("inf")
    size = 0
    for _ in range(repeat):
        with factory() as session:
            incident = session.get(Incident, incident_id)
            start = time.perf_counter()
            content = collect(session, incident, T0 + timedelta(days=1))
            collected = time.perf_counter()
            body = render(content)
            done = time.perf_counter()
        best_collect = min(best_collect, collected - start)
        best_render = min(best_render, done - collected)
        size = len(body)
    return best_collect, best_render, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        factory = make_session_factory(engine)
        base_id, big_id = _incident(factory, args.baseline), _incident(factory, args.events)
        _time(factory, base_id, 1)  # template compile and connection warm-up, as in a running bot
        base = _time(factory, base_id, args.repeat)
        big = _time(factory, big_id, args.repeat)
        engine.dispose()
    print(f"{'events':>8} {'collect':>9} {'render':>9} {'total':>9} {'markdown':>10}")
    for count, (c, r, size) in ((args.baseline, base), (args.events, big)):
        print(
            f"{count:>8} {c * 1000:>7.1f}ms {r * 1000:>7.1f}ms {(c + r) * 1000:>7.1f}ms {size / 1024:>8.0f}KB"
        )
    ratio = (big[0] + big[1]) / (base[0] + base[1])
    print(
        f"ratio {args.events}/{args.baseline} events: {ratio:.1f}x (linear would be {args.events / args.baseline:.0f}x)"
    )
    total = big[0] + big[1]
    verdict = "OK" if total < 1.0 else "TOO SLOW"
    print(f"{verdict}: a {args.events}-event draft takes {total:.3f}s (target < 1 s)")
    return 0 if total < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
