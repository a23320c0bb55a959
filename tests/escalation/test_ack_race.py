"""An ack racing the tick at the boundary: once the ack has committed, no page may leave.

The claim re-reads the ladder row under a share lock in the transaction that marks a page
'sending', so there are exactly two orders: the ack commits first (the page is cancelled), or the
claim commits first (the page had left when the ack came). These tests pin each order down, then
race the two for real and check every outcome against what the ack saw when it committed.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.escalation import engine, passes
from bot.escalation import service as escalation
from bot.escalation.models import PageOutbox
from bot.incidents import flows
from bot.incidents import service as incidents
from bot.incidents.models import Incident
from tests.escalation.helpers import LEAD, ONCALL, close, declare, guide_policy, make_runtime, outbox, pages

FIFTEEN = timedelta(minutes=15)


def _tier2_row(runtime, incident_id: int) -> PageOutbox | None:
    return next((r for r in outbox(runtime, incident_id) if r.tier == 1), None)


def test_ack_committed_before_the_claim_cancels_the_page(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        clock.advance(FIFTEEN)
        engine.advance_ladders(runtime)  # tier 2's row is written...
        assert _tier2_row(runtime, incident.id).status == "pending"
        flows.change_status(runtime, incident.id, ONCALL, "acknowledged")  # ...the ack commits...
        engine.send_due(runtime)  # ...and the claim finds the ladder stopped.
        assert pages(emu, LEAD) == []
        row = _tier2_row(runtime, incident.id)
        assert (row.status, row.error, row.attempts) == ("cancelled", "acknowledged", 0)
    finally:
        close(runtime)


def test_claim_waits_for_an_ack_in_flight_and_then_cancels(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        clock.advance(FIFTEEN)
        engine.advance_ladders(runtime)

        session = runtime.sessions()  # the ack's transaction, held open
        row = session.get(Incident, incident.id)
        incidents.acknowledge(session, row, ONCALL, clock.now())
        escalation.stop(session, incident.id, "acknowledged", clock.now())
        session.flush()

        tick = threading.Thread(target=engine.send_due, args=(runtime,))
        tick.start()
        time.sleep(0.5)
        assert tick.is_alive(), "the claim must wait for the ack's row lock, not page past it"
        assert pages(emu, LEAD) == []
        session.commit()
        session.close()
        tick.join(10)
        assert not tick.is_alive()
        assert pages(emu, LEAD) == []
        assert _tier2_row(runtime, incident.id).status == "cancelled"
    finally:
        close(runtime)


def test_ack_after_the_claim_is_after_the_page_left_and_does_not_wait_for_slack(emu, pg_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, pg_url, guide_policy(), clock)
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        clock.advance(FIFTEEN)
        emu.latency("chat.postMessage", 1.0)  # a slow Slack: the page is in flight for a second
        tick = threading.Thread(target=engine.run_due, args=(runtime,))
        tick.start()
        emu.wait_for(lambda: (_tier2_row(runtime, incident.id) or PageOutbox()).status == "sending", 5)
        started = time.monotonic()
        flows.change_status(runtime, incident.id, ONCALL, "acknowledged")
        ack_took = time.monotonic() - started
        tick.join(10)
        emu.clear_faults()
        # The ack needed no lock the page held while Slack was slow (its own Slack calls are the cost).
        assert ack_took < 2.5
        assert len(pages(emu, LEAD, incident.id)) == 1
        assert _tier2_row(runtime, incident.id).status == "sent"
    finally:
        close(runtime)


def _ack_and_look(runtime, incident_id: int, now) -> list[str]:
    """The ack flow's transaction, plus a look (under the ladder lock) at tier 2's page as it commits."""
    with runtime.session() as session:
        row = session.get(Incident, incident_id)
        incidents.acknowledge(session, row, ONCALL, now)
        escalation.stop(session, incident_id, "acknowledged", now)
        return list(
            session.scalars(
                select(PageOutbox.status).where(PageOutbox.incident_id == incident_id, PageOutbox.tier == 1)
            )
        )


def test_acks_racing_the_tick_at_the_boundary_never_let_a_page_out_after_commit(
    emu, pg_url, monkeypatch
) -> None:
    # Small batches spread the tick's claims over ~100 ms, so acks land before, between and after them.
    monkeypatch.setattr(passes, "BATCH", 3)
    monkeypatch.setattr(passes, "SEND_BATCH", 3)
    clock = ManualClock()
    runtime = make_runtime(emu, pg_url, guide_policy(), clock)
    outcomes: dict[str, int] = {}
    try:
        ids = [declare(runtime, title=f"Race {n}").id for n in range(24)]
        engine.run_due(runtime)
        clock.advance(FIFTEEN)  # every tier 2 falls due at this very instant
        barrier = threading.Barrier(2)
        seen_at_ack: dict[int, list[str]] = {}

        def ack_one(incident_id: int) -> list[str]:
            time.sleep(random.uniform(0, 0.15))  # spread the acks across the tick's work
            return _ack_and_look(runtime, incident_id, clock.now())

        def acks() -> None:
            barrier.wait()
            with ThreadPoolExecutor(8) as pool:
                seen_at_ack.update(zip(ids, pool.map(ack_one, ids), strict=True))

        def tick() -> None:
            barrier.wait()
            engine.run_due(runtime)

        threads = [threading.Thread(target=acks), threading.Thread(target=tick)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        engine.run_due(runtime)  # whatever the race left pending is settled now

        for incident_id in ids:
            sent = len(pages(emu, LEAD, incident_id))
            row = _tier2_row(runtime, incident_id)
            seen = seen_at_ack[incident_id]
            if seen and seen[0] in ("sending", "sent"):
                outcome = "page left before the ack"
                assert sent == 1 and row.status == "sent"
            else:
                # The ack committed while the page was unwritten or still pending: nothing may leave.
                outcome = "ack first"
                assert sent == 0, f"INC-{incident_id}: paged after the ack committed (ack saw {seen})"
                assert row is None or row.status == "cancelled"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert sum(outcomes.values()) == len(ids)
        print("race outcomes:", outcomes)
    finally:
        close(runtime)
