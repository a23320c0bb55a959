"""A real `warroom run` on PostgreSQL behind a proxy that hangs: Slack gets every answer in time,
/readyz turns 503 (the database, then the failing escalation tick) and back to 200 by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import create_db_engine, make_session_factory
from bot.db.engine import session_scope
from bot.incidents.models import Incident, TimelineEvent
from devkit.slack_emulator import SlackEmulator
from tests.db_faults.proxy import FaultProxy
from tests.db_faults.support import ask, percentile, readyz, until_not_ready
from tests.escalation.helpers import GUIDE_POLICY, REPORTER, seed_users
from tests.escalation.processes import BotProcess

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        seed_users(emulator)
        yield emulator


def _incidents(pg_url: str) -> tuple[list[Incident], list[TimelineEvent]]:
    engine = create_db_engine(pg_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return (
                list(session.scalars(select(Incident).order_by(Incident.id))),
                list(session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))),
            )
    finally:
        engine.dispose()


def test_warroom_run_through_a_hung_database(emu: SlackEmulator, pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "warroom.yml"
    config.write_text(GUIDE_POLICY)
    with FaultProxy("127.0.0.1", 5432) as proxy:
        bot = BotProcess("bot", emu, proxy.url_for(pg_url), config, tmp_path).wait_healthy()
        try:
            emu.wait_for(lambda: readyz(bot.url).status == 200, timeout=15)
            declared = ask(bot.driver, emu, "/incident", "p1 Checkout returns 502", REPORTER, "C_GENERAL", 15)
            assert "Opened" in declared.text, bot.log()
            room = emu.find_channel_prefix("inc-").id

            proxy.hang()
            hung_at = time.monotonic()
            first = until_not_ready(bot.url)
            assert first.status == 503 and first.elapsed < 2.0, first
            commands = [
                ("/incident", "note still failing over", room, "your note was not saved"),
                ("/incident", "ack", room, "nothing was changed"),
                ("/incident", "list", "C_GENERAL", "could not read the open incidents"),
                ("/incident", "p2 Search is slow", "C_GENERAL", "the incident was not declared"),
                ("/incident", "help", "C_GENERAL", "Warroom"),
                ("/diag", "help", "C_GENERAL", "/diag"),
            ]
            latencies = []
            for round_ in range(4):
                for name, text, channel, wanted in commands:
                    answer = ask(bot.driver, emu, name, f"{text}" if round_ == 0 else text, REPORTER, channel)
                    assert answer.latency < 3.0, (name, text, answer)
                    assert wanted in answer.shown, (name, text, answer)
                    latencies.append(answer.latency)
            # The tick fails too, and /readyz says so: three failed ticks in a row, well before the last
            # success would be stale (10 s), since the stamp only counts ticks that succeeded.
            emu.wait_for(lambda: readyz(bot.url).checks.get("escalation_tick") is False, timeout=20)
            tick_not_ready = time.monotonic() - hung_at
            assert tick_not_ready < 9.0, tick_not_ready
            worst_ready = max(readyz(bot.url).elapsed for _ in range(5))
            assert worst_ready < 2.0

            proxy.heal()
            healed = time.monotonic()
            while (
                "Noted" not in ask(bot.driver, emu, "/incident", "note database is back", REPORTER, room).text
            ):
                assert time.monotonic() - healed < 15, bot.log()
                time.sleep(0.2)
            heal_seconds = time.monotonic() - healed
            emu.wait_for(lambda: readyz(bot.url).status == 200, timeout=15)
            ready_seconds = time.monotonic() - healed
            print(
                f"\nwarroom run, hung PostgreSQL: {len(latencies)} commands, answer p50 "
                f"{percentile(latencies, 50):.2f} s, p99 {percentile(latencies, 99):.2f} s, max "
                f"{max(latencies):.2f} s; /readyz {first.elapsed:.2f} s (first), worst {worst_ready:.2f} s; "
                f"escalation_tick false {tick_not_ready:.1f} s into the hang; "
                f"note saved {heal_seconds:.2f} s and /readyz 200 {ready_seconds:.2f} s after the database answered"
            )
        finally:
            bot.stop()
    incidents, events = _incidents(pg_url)
    assert [(i.title, i.status) for i in incidents] == [("Checkout returns 502", "declared")]
    notes = [e.text for e in events if e.kind == "note"]
    assert notes == ["database is back"], notes
