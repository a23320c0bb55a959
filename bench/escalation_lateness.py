"""Page lateness with many open incidents escalating: sent-at minus due-at, p50 / p99 / max.

    .venv/bin/python bench/escalation_lateness.py [--incidents 1000] [--baseline 10] [--tick 1.0]
        [--spread 10] [--burst] [--replicas 1]

The whole bot path runs for real: PostgreSQL (a fresh database per run), the APScheduler tick in
this process (`--replicas 2` adds a second scheduler with its own engine, i.e. a second replica),
the Slack Web API over HTTP on the project's emulator. Incidents are declared with their tier 1
due times spread uniformly over `--spread` seconds (or all at one instant with `--burst`), each on
a three-tier ladder (`--tier-seconds`, default 10 s), so every incident is paged three times. The same run measures a
baseline with `--baseline` incidents, and prints the ratio of the two: the cost of scale.
Duplicates are counted from what Slack received: DMs per (person, incident, tier).
"""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import os
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection

from sqlalchemy import create_engine, func, select, text

from bot.app import build_runtime
from bot.config.loader import load_policy_text
from bot.config.settings import Settings
from bot.db import create_db_engine, migrate
from bot.escalation import service as escalation
from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents import service as incidents
from bot.scheduler import start_scheduler
from devkit.slack_emulator import SlackEmulator, collect_actions

PG_ADMIN = os.environ.get("WARROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
USERS = ("U0BENCH1", "U0BENCH2", "U0BENCH3")
POLICY = """
escalation:
  tiers:
    - {{name: tier1, targets: [{0}], timeout: {3}s}}
    - {{name: tier2, targets: [{1}], timeout: {3}s}}
    - {{name: tier3, targets: [{2}], timeout: {3}s}}
"""
TIERS = 3


@dataclass
class Result:
    incidents: int
    pages: int
    p50: float
    p99: float
    max: float
    duplicates: int
    wall: float


def _emulator_process(conn: Connection, users: tuple[str, ...], channels: int, latency: float = 0.0) -> None:
    """Slack, in its own process as in production: its CPU does not compete with the bot's."""
    emu = SlackEmulator().start()
    for method in ("chat.postMessage", "conversations.invite", "chat.update", "usergroups.users.list"):
        emu.latency(method, latency)  # --slack-latency: every call a page makes takes this long
    for user in users:
        emu.add_user(user.lower(), id=user)
    ids = [emu.add_channel(f"inc-bench-{n}").id for n in range(channels)]
    conn.send((emu.api_url, emu.bot_token, ids))
    while (command := conn.recv()) != "stop":
        assert command == "report"
        received: Counter[tuple[str, str]] = Counter()
        for user in users:
            for message in emu.dms(user):
                for action in collect_actions(message.get("blocks")):
                    if action.action_id == "incident_ack":
                        received[(user, action.value or "")] += 1
        conn.send(received)
    emu.stop()


def floor(count: int, workers: int = 32, pooled: bool = True) -> float:
    """Seconds this machine needs for `count` bare chat.postMessage calls to the same emulator with the
    same parallelism as the outbox: the hardware's floor for `count` pages, nothing of Warroom's but
    the client. `pooled`: over kept-alive connections (bot.slack.client); else slack_sdk's own
    WebClient, a new connection per call."""
    from concurrent.futures import ThreadPoolExecutor

    from slack_sdk import WebClient

    from bot.slack.client import PooledWebClient

    conn, child_conn = multiprocessing.get_context("spawn").Pipe()
    slack = multiprocessing.get_context("spawn").Process(
        target=_emulator_process, args=(child_conn, USERS, 1), daemon=True
    )
    slack.start()
    api_url, token, _channels = conn.recv()
    client = (PooledWebClient if pooled else WebClient)(token=token, base_url=api_url)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(
            pool.map(lambda n: client.chat_postMessage(channel=USERS[n % 3], text=f"page {n}"), range(count))
        )
    elapsed = time.monotonic() - started
    conn.send("stop")
    slack.join(5)
    return elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(
    count: int, tick: float, spread: float, burst: bool, replicas: int, tier: float, latency: float = 0.0
) -> Result:
    name = f"warroom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    policy = load_policy_text(POLICY.format(*USERS, tier))
    conn, child_conn = multiprocessing.get_context("spawn").Pipe()
    slack = multiprocessing.get_context("spawn").Process(
        target=_emulator_process, args=(child_conn, USERS, count, latency), daemon=True
    )
    slack.start()
    api_url, token, channels = conn.recv()
    runtimes, schedulers = [], []
    try:
        settings = Settings(
            slack_bot_token=token,
            slack_signing_secret="bench",
            slack_api_url=api_url,
            database_url=url,
            warroom_tick_seconds=tick,
        )
        runtimes = [build_runtime(settings, policy, run_migrations=False) for _ in range(replicas)]
        gc.freeze()  # as `warroom run` does once started (bot.cli)
        schedulers = [start_scheduler(rt) for rt in runtimes]
        time.sleep(2 * tick)  # the schedulers are ticking before any incident exists

        # Declaring 1,000 incidents takes seconds: declare them parked an hour ahead, then set every
        # due time in one statement, so no incident is already overdue when the clock starts.
        parked = datetime.now(UTC) + timedelta(hours=1)
        with runtimes[0].session() as session:
            for n, channel in enumerate(channels):
                incident, _ = incidents.declare(
                    session,
                    policy,
                    severity="p3",
                    title=f"Bench incident {n}",
                    reporter_id=USERS[0],
                    origin_channel_id=None,
                    now=parked,
                )
                incident.channel_id, incident.channel_name = channel, f"inc-bench-{n}"
                # The rooms are finished (as they are long before a tier falls due): reconciliation
                # must not start posting 1,000 summaries in the middle of the measurement.
                incident.summary_ts = incident.checklist_ts = "1700000000.000100"
                escalation.start(session, incident, parked)
        with runtimes[0].session() as session:
            states = session.scalars(select(EscalationState).order_by(EscalationState.incident_id)).all()
            first_due = datetime.now(UTC) + timedelta(seconds=2)
            for n, state in enumerate(states):
                state.next_at = first_due if burst else first_due + timedelta(seconds=spread * n / count)
        started = time.monotonic()
        expected = count * TIERS
        deadline = started + spread + TIERS * tier + 60
        while time.monotonic() < deadline:
            with runtimes[0].session() as session:
                sent = session.scalar(
                    select(func.count())
                    .select_from(PageOutbox)
                    .where(PageOutbox.kind == "page", PageOutbox.sent_at.is_not(None))
                )
            if sent >= expected:
                break
            time.sleep(0.25)
        wall = time.monotonic() - started
        time.sleep(2 * tick)  # more ticks: a duplicate would show up now
        with runtimes[0].session() as session:
            rows = list(session.scalars(select(PageOutbox).where(PageOutbox.kind == "page")))
        lateness = [(r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at is not None]
        # Where the slowest 1 % lost their time: waiting for the tick/claim, or inside the Slack call.
        slow = sorted((r for r in rows if r.sent_at is not None), key=lambda r: r.sent_at - r.due_at)
        slow = slow[-max(1, len(slow) // 100) :]
        slack_ms = sorted(r.deliveries["slack"].get("ms", 0) for r in slow)
        print(
            f"  slowest 1% ({len(slow)} pages): Slack call p50 {slack_ms[len(slack_ms) // 2]} ms, "
            f"max {slack_ms[-1]} ms; the rest is waiting to be claimed"
        )
        conn.send("report")
        received: Counter[tuple[str, str]] = conn.recv()
        duplicates = sum(n - 1 for n in received.values() if n > 1) + max(0, len(rows) - expected)
        if len(lateness) < expected:
            print(f"  ! only {len(lateness)} of {expected} pages were sent")
        return Result(
            count,
            len(lateness),
            statistics.median(lateness),
            _percentile(lateness, 0.99),
            max(lateness),
            duplicates,
            wall,
        )
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        for rt in runtimes:
            rt.executor.shutdown(wait=True)
            rt.engine.dispose()
        conn.send("stop")
        slack.join(10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _line(label: str, r: Result) -> str:
    return (
        f"{label:<9} incidents={r.incidents:<5} pages={r.pages:<5} lateness p50={r.p50 * 1000:7.1f} ms  "
        f"p99={r.p99 * 1000:7.1f} ms  max={r.max * 1000:7.1f} ms  duplicates={r.duplicates}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between scheduler ticks (≤ 1)")
    parser.add_argument("--spread", type=float, default=30.0, help="tier 1 due times spread over this many s")
    parser.add_argument("--tier-seconds", type=float, default=10.0, help="timeout of each of the three tiers")
    parser.add_argument("--burst", action="store_true", help="every incident's tier 1 due at one instant")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--slack-latency", type=float, default=0.0, help="seconds each Slack call takes")
    args = parser.parse_args()
    # An overloaded tick says so at WARNING on every skipped run; the numbers below say it better.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    shape = "burst (all due at once)" if args.burst else f"due times spread over {args.spread:g}s"
    print(
        f"escalation lateness: tick interval {args.tick:g}s, {args.replicas} replica(s), "
        f"3 tiers of {args.tier_seconds:g}s, {shape}, Slack {args.slack_latency * 1000:g} ms per call"
    )
    common = (args.tick, args.spread, args.burst, args.replicas, args.tier_seconds, args.slack_latency)
    base = run(args.baseline, *common)
    print(_line("baseline", base))
    full = run(args.incidents, *common)
    print(_line("full", full))
    bare = floor(args.incidents)
    fresh = floor(args.incidents, pooled=False)
    print(
        f"floor     {args.incidents} bare chat.postMessage calls, 32 in parallel, same emulator: "
        f"{bare * 1000:.0f} ms kept-alive, {fresh * 1000:.0f} ms with a new connection per call "
        f"(a burst of {args.incidents} DMs cannot all leave sooner on this machine)"
    )
    ratio = full.p99 / base.p99 if base.p99 > 0 else float("inf")
    verdict = "OK" if full.p99 <= 1.0 and full.duplicates == 0 else "MISSED"
    print(
        f"p99 ratio full/baseline = {ratio:.2f}x  (goal: p99 ≤ 1000 ms with {args.incidents} incidents, "
        f"zero duplicates: {verdict}); p99 / floor = {full.p99 / bare:.2f}x"
    )


if __name__ == "__main__":
    main()
