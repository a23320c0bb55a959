"""Time from Slack's return (the ack of `/incident p1 …`) to the war room being complete.

A real `warroom run` process (SQLite) on the Slack emulator with every Web API call taking 100 ms.
"Complete" is what a responder sees: the channel exists with its pinned summary and its checklist,
the reporter and the paged on-call person are members, and the announcement is posted.
Baseline (same run, same emulator): the same Slack calls made directly by a bare WebClient along
the critical path a perfect bot would take — create, then invite / summary+pin / checklist /
announce side by side — with no database, no Bolt, no HTTP: the ratio is the bot's overhead.

    .venv/bin/python -m bench.setup_latency [--n 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient

from devkit.slack_emulator import SlackDriver, SlackEmulator, blocks_to_text

SECRET = "bench-signing-secret"
SLACK_CALL = 0.1
LOG = open(os.environ.get("BENCH_LOG", os.devnull), "ab")  # noqa: SIM115 - the bot writes here until exit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _complete(emu: SlackEmulator, prefix: str, members: set[str], announce: str) -> bool:
    room = emu.find_channel_prefix(prefix)
    if room is None or not members <= set(room.members) or not room.pins:
        return False
    texts = [blocks_to_text(m.get("blocks"), m.get("text")) for m in emu.messages(room.id)]
    announced = any(prefix in str(m.get("text", "")) or room.id in str(m) for m in emu.messages(announce))
    return any("Response checklist" in t for t in texts) and announced


def _wait(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the room did not complete")
        time.sleep(0.02)


ROOM_CALLS = ("conversations.invite", "pins.add", "chat.postMessage")


def _completed_at(emu: SlackEmulator, first_call: int, prefix: str, announce: str) -> float:
    """When Slack answered the last call the complete room needed (wall clock, from the emulator's
    record): polling for completeness is coarse (20 ms) and shares the GIL with the emulator, so
    its own moment would add noise of the bench's making."""
    room = emu.find_channel_prefix(prefix)
    assert room is not None
    return max(
        call.time
        for call in emu.calls[first_call:]
        if call.ok and call.method in ROOM_CALLS and call.params.get("channel") in (room.id, announce)
    )


def _baseline(emu: SlackEmulator, n: int, reporter: str, oncall: str, announce: str) -> list[float]:
    client = WebClient(token=emu.bot_token, base_url=emu.api_url)
    pool = ThreadPoolExecutor(8)
    times = []
    for i in range(n):
        started = time.monotonic()
        room = client.conversations_create(name=f"base-{i}")["channel"]["id"]

        def summary(room: str = room) -> None:
            ts = client.chat_postMessage(channel=room, text="summary")["ts"]
            client.pins_add(channel=room, timestamp=ts)

        futures = [
            pool.submit(client.conversations_invite, channel=room, users=f"{reporter},{oncall}"),
            pool.submit(summary),
            pool.submit(client.chat_postMessage, channel=room, text="Response checklist"),
            pool.submit(client.chat_postMessage, channel=announce, text=f"base-{i}"),
        ]
        for future in futures:
            future.result()
        times.append(time.monotonic() - started)
    pool.shutdown()
    return times


def _fmt(name: str, values: list[float], base: float) -> str:
    p50 = statistics.median(values)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
    return (
        f"{name:<34} n={len(values):<3} p50={p50 * 1000:7.1f} ms  p90={p90 * 1000:7.1f} ms  "
        f"max={max(values) * 1000:7.1f} ms  over 400 ms: {sum(v > 0.4 for v in values):<3} "
        f"p50/baseline={p50 / base:4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--trace", action="store_true", help="print the Slack calls of the last declaration")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    port = _free_port()
    with SlackEmulator() as emu:
        reporter, oncall = emu.add_user("reporter").id, emu.add_user("oncall").id
        announce = emu.add_channel("incidents").id
        config = os.path.join(tempfile.mkdtemp(), "warroom.yml")
        with open(config, "w") as out:
            out.write(
                f"announce_channel: {announce}\n"
                f"escalation: {{tiers: [{{name: tier1, targets: [{oncall}], timeout: 1h}}]}}\n"
            )
        env = {
            **os.environ,
            "SLACK_API_URL": emu.api_url,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db",
            "WARROOM_CONFIG": config,
            "PORT": str(port),
            "WARROOM_LOG_FORMAT": "text",
        }
        exe = os.path.join(os.path.dirname(sys.executable), "warroom")
        bot = subprocess.Popen(  # fixed arguments, no user text
            [exe, "run", "--host", "127.0.0.1"], env=env, stdout=LOG, stderr=subprocess.STDOUT
        )
        try:
            _wait(lambda: _healthy(port), timeout=30)
            emu.latency("*", SLACK_CALL)
            base = _baseline(emu, args.n, reporter, oncall, announce)
            driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, emu)
            times, firsts = [], []
            for i in range(args.n):
                first_call = len(emu.calls)
                response = driver.command("/incident", f"p1 Bench room {i}", user_id=reporter)
                acked_wall = time.time()
                assert response.status == 200, response.body
                prefix = f"inc-{time.strftime('%Y%m%d', time.gmtime())}-{i + 1}-"
                _wait(lambda p=prefix: _complete(emu, p, {reporter, oncall}, announce))
                times.append(_completed_at(emu, first_call, prefix, announce) - acked_wall)
                firsts.append(_first_page(emu, oncall, f"Bench room {i}", acked_wall))
            if args.trace:
                for call in emu.calls:
                    if call.time >= acked_wall - 0.2:
                        print(
                            f"  {(call.time - acked_wall) * 1000:7.1f} ms  {call.method} {call.params.get('channel', '')}"
                        )
            b50 = statistics.median(base)
            print(f"Slack call latency {SLACK_CALL * 1000:.0f} ms; {args.n} declarations, one after another")
            print(_fmt("baseline: bare WebClient, ideal", base, b50))
            print(_fmt("ack -> room complete (warroom)", times, b50))
            print(_fmt("ack -> tier 1 page DM (warroom)", firsts, b50))
        finally:
            bot.terminate()
            bot.wait(30)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def _first_page(emu: SlackEmulator, user: str, title: str, since: float) -> float:
    """When the emulator answered the page DM (its call record), from the ack, wall clock."""

    def sent() -> list[float]:
        return [
            c.time
            for c in emu.calls_to("chat.postMessage")
            if c.params.get("channel") == user and title in str(c.params.get("text", ""))
        ]

    _wait(sent)
    return min(sent()) - since


if __name__ == "__main__":
    main()
