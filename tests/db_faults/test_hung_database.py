"""A database that hangs or refuses: every slash command still gets an honest answer within Slack's
3 s, /readyz says 503 within 2 s, and the bot heals by itself once the database answers again.

Real parts: the bot behind its HTTP server (tests/harness.py), the machine's PostgreSQL behind a
TCP proxy that stops passing bytes or refuses connections, and a SQLite file whose write lock
another process holds. What is asserted is what people see (ack bodies and response_url posts) and
what the database holds afterwards, read directly, not through the proxy.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from bot.db import create_db_engine, make_session_factory
from bot.db.engine import session_scope
from bot.db.guard import BREAKER_COOLDOWN_SECONDS
from bot.incidents.models import Incident, TimelineEvent
from tests.db_faults.proxy import FaultProxy
from tests.db_faults.support import Answer, ask, percentile, readyz, until_not_ready
from tests.harness import Harness

ACK_LIMIT = 3.0  # Slack's own limit: after it the person sees "operation_timeout"
READYZ_LIMIT = 2.0
DOWN = "The database is not answering"


@contextmanager
def bot_behind_proxy(pg_url: str) -> Iterator[tuple[FaultProxy, Harness]]:
    with FaultProxy("127.0.0.1", 5432) as proxy, Harness(proxy.url_for(pg_url)) as h:
        yield proxy, h


def command(h: Harness, text: str, channel: str, name: str = "/incident") -> Answer:
    return ask(h.driver, h.emulator, name, text, h.alice, channel)


def db_rows(url: str) -> tuple[list[Incident], list[TimelineEvent]]:
    """What the database holds, read around the proxy."""
    engine = create_db_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            incidents = list(session.scalars(select(Incident).order_by(Incident.id)))
            events = list(session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)))
            return incidents, events
    finally:
        engine.dispose()


def assert_every_command_answers(h: Harness, room: str, why: str) -> list[float]:
    """The six commands people type during an outage: each answered honestly within 3 s."""
    expectations = [
        ("/incident", "p1 Payments are failing", h.general, [why, "the incident was not declared"]),
        ("/incident", "note rolled back the deploy", room, [why, "your note was not saved"]),
        ("/incident", "ack", room, [why, "nothing was changed"]),
        ("/incident", "list", h.general, [why, "could not read the open incidents"]),
        ("/incident", "help", h.general, ["/incident note <text>"]),
        ("/diag", "help", h.general, ["/diag triage <service>"]),
    ]
    latencies = []
    for name, text, channel, wanted in expectations:
        answer = command(h, text, channel, name)
        assert answer.status == 200, (name, text)
        assert answer.latency < ACK_LIMIT, (name, text, answer)
        shown = answer.shown.replace("&lt;", "<").replace("&gt;", ">")
        for part in wanted:
            assert part in shown, (name, text, answer.text)
        latencies.append(answer.latency)
    return latencies


def heal_and_note(h: Harness, proxy: FaultProxy, room: str) -> float:
    """Let bytes flow again; seconds until a note is saved, trying as a person would."""
    proxy.heal()
    healed = time.monotonic()
    deadline = healed + 15
    while time.monotonic() < deadline:
        answer = command(h, "note database is back", room)
        if "Noted" in answer.text:
            return time.monotonic() - healed
        assert answer.latency < ACK_LIMIT, answer
        time.sleep(0.2)
    raise AssertionError("the bot did not heal within 15 s of the database answering")


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_that_hangs(pg_url: str) -> None:
    with bot_behind_proxy(pg_url) as (proxy, h):
        incident = h.declare("p1 Checkout API returns 502")
        room = incident.channel_id
        assert room

        proxy.hang()
        latencies = assert_every_command_answers(h, room, DOWN)
        # Each time the breaker lets a call through, that call waits out the full client-side limit:
        # the worst case, spaced so that every one of these is such a call.
        waited = []
        for i in range(5):
            time.sleep(BREAKER_COOLDOWN_SECONDS + 0.1)
            waited.append(command(h, f"note attempt {i}", room).latency)
        # Right after a failure the breaker answers at once.
        at_once = [command(h, f"note attempt {i}", room).latency for i in range(5, 15)]
        latencies += waited + at_once
        assert max(latencies) < ACK_LIMIT, latencies
        time.sleep(BREAKER_COOLDOWN_SECONDS + 0.1)
        first = until_not_ready(h.url)  # the probe itself must give up in time
        assert first.status == 503 and first.checks["database"] is False, first

        heal_seconds = heal_and_note(h, proxy, room)
        assert heal_seconds < 6.0, heal_seconds
        h.emulator.wait_for(lambda: readyz(h.url).status == 200, timeout=5)
        print(
            f"\nhung PostgreSQL: {len(latencies)} commands, answer p50 {percentile(latencies, 50):.2f} s, "
            f"p99 {percentile(latencies, 99):.2f} s; through the breaker {min(waited):.2f}–{max(waited):.2f} s, "
            f"breaker open p99 {percentile(at_once, 99):.2f} s; /readyz {first.elapsed:.2f} s; "
            f"healed in {heal_seconds:.2f} s"
        )

    incidents, events = db_rows(pg_url)
    # Told "not declared / not saved / nothing changed": and so it is.
    assert [i.title for i in incidents] == ["Checkout API returns 502"]
    assert incidents[0].status == "declared"
    notes = [e.text for e in events if e.kind == "note"]
    assert notes[-1] == "database is back"
    assert not [n for n in notes if n.startswith(("rolled back", "attempt"))], notes


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_that_refuses_connections(pg_url: str) -> None:
    with bot_behind_proxy(pg_url) as (proxy, h):
        incident = h.declare("p1 Checkout API returns 502")
        room = incident.channel_id
        assert room

        proxy.refuse()
        assert_every_command_answers(h, room, DOWN)
        ready = readyz(h.url)
        assert ready.status == 503 and ready.elapsed < READYZ_LIMIT, ready

        assert heal_and_note(h, proxy, room) < 6.0
        h.emulator.wait_for(lambda: readyz(h.url).status == 200, timeout=5)

    _, events = db_rows(pg_url)
    notes = [e.text for e in events if e.kind == "note"]
    assert "rolled back the deploy" not in notes and notes[-1] == "database is back"


def test_sqlite_write_lock_held_by_another_process(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        incident = h.declare("p1 Checkout API returns 502")
        room = incident.channel_id
        assert room
        path = sqlite_url.removeprefix("sqlite:///")
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock, and keeps it
            note = command(h, "note rolled back the deploy", room)
            assert note.latency < ACK_LIMIT, note
            assert "The database is busy" in note.text and "your note was not saved" in note.text, note
            ack = command(h, "ack", room)
            assert ack.latency < ACK_LIMIT and "nothing was changed" in ack.text, ack
            # Readers are not blocked by a writer (WAL): the list, help and /readyz still work.
            listing = command(h, "list", h.general)
            assert listing.latency < ACK_LIMIT and "Checkout API returns 502" in listing.shown, listing
            assert command(h, "help", h.general).latency < ACK_LIMIT
            ready = readyz(h.url)
            assert ready.status == 200 and ready.elapsed < READYZ_LIMIT, ready
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        saved = command(h, "note lock released", room)
        assert "Noted" in saved.text, saved
    incidents, events = db_rows(sqlite_url)
    assert incidents[0].status == "declared"
    notes = [e.text for e in events if e.kind == "note"]
    assert notes == ["lock released"], notes
