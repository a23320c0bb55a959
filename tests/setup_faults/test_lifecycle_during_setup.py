"""Issue 17 item 2: lifecycle changes racing the set-up — two people acking at once, a reopen right
after a resolve, a severity change while the room is being made, a change while the summary is
not posted yet. Through the real HTTP endpoint, the real scheduler, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import select

from bot.config.loader import load_policy_text
from bot.config.policy import Policy
from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents.models import Incident, TimelineEvent
from bot.scheduler import start_scheduler
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.setup_faults.support import pages, room_complete, summaries

LADDER = """
severities:
  p1: {escalation: slow}
escalation_policies:
  slow:
    tiers:
      - {name: slow-tier1, targets: [U0BOB], timeout: 10m}
      - {name: slow-tier2, targets: [U0CAROL], timeout: 10m}
escalation:
  tiers:
    - {name: tier1, targets: [U0BOB], timeout: 2s}
    - {name: tier2, targets: [U0CAROL], timeout: 2s}
"""


@contextmanager
def _bot(db_url: str, policy: Policy | None = None) -> Iterator[Harness]:
    with Harness(db_url, policy=policy or load_policy_text(LADDER)) as h:
        scheduler = start_scheduler(h.runtime)
        try:
            yield h
        finally:
            scheduler.shutdown(wait=True)


def _events(h: Harness, kind: str) -> list[TimelineEvent]:
    with h.runtime.session() as session:
        return list(session.scalars(select(TimelineEvent).where(TimelineEvent.kind == kind)))


def _incident(h: Harness) -> Incident:
    incident = h.latest_incident()
    assert incident is not None
    return incident


def test_two_people_acking_at_once_make_one_ack(db_url: str) -> None:
    with _bot(db_url) as h:
        h.emulator.latency("pins.add", 0.5)  # the summary (and its button) is up before its pin
        h.command("p0 Payments down")
        summary = h.wait_until(
            lambda: h.incident_channel() and summaries(h.emulator, h.incident_channel().id)
        )
        room = h.incident_channel().id
        with ThreadPoolExecutor(2) as pool:
            presses = list(
                pool.map(
                    lambda u: h.driver.block_action(u, room, summary[0]["ts"], "incident_ack"),
                    [h.bob, h.carol],
                )
            )
        assert [p.status for p in presses] == [200, 200]
        h.wait_until(lambda: _events(h, "acknowledged"), timeout=10)

        def told() -> list[str]:  # the second clicker hears it, in the room or (not a member) by DM
            said = [*h.emulator.ephemerals(room), *h.emulator.dms(h.bob), *h.emulator.dms(h.carol)]
            return [str(m.get("text", "")) for m in said if "already acknowledged" in str(m.get("text", ""))]

        h.wait_until(told, timeout=10)
        assert len(told()) == 1 and len(_events(h, "acknowledged")) == 1
        incident = _incident(h)
        assert incident.status == "acknowledged" and incident.commander_id == incident.acknowledged_by
        everything = [h.emulator.ephemerals(room), h.emulator.dms(h.bob), h.emulator.dms(h.carol)]
        assert "went wrong" not in str(everything)


def test_reopen_right_after_resolve_does_not_restart_escalation(db_url: str) -> None:
    with _bot(db_url) as h:
        h.command("p0 Payments down")
        room = h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=15)
        h.wait_until(lambda: pages(h.emulator, h.bob), timeout=10)
        assert "resolved" in h.reply(h.command("resolve", channel=room.id))
        assert "acknowledged" in h.reply(h.command("reopen", channel=room.id))
        with h.runtime.session() as session:
            due = session.get(EscalationState, 1)
            assert (due.active, due.stopped_reason) == (False, "resolved")
        # tier 2 fell due 2 s after tier 1: wait past it, with ticks, and see nobody woken.
        time.sleep(3.5)
        assert pages(h.emulator, h.carol) == []
        assert _incident(h).status == "acknowledged"


def test_severity_change_during_set_up_follows_the_new_ladder(db_url: str) -> None:
    """P1 runs the slow ladder; raised to P0 while the summary is being pinned, it follows the
    default (2 s) ladder from there: tier 2 is paged two seconds after tier 1, named as P0's."""
    with _bot(db_url) as h:
        h.emulator.latency("pins.add", 3.0)
        h.command("p1 Search degraded")
        room = h.wait_until(lambda: h.incident_channel(), timeout=10)
        h.wait_until(lambda: summaries(h.emulator, room.id), timeout=10)
        h.wait_until(lambda: pages(h.emulator, h.bob), timeout=10)  # tier 1 paged on the P1 ladder
        assert not h.emulator.channels[room.id].pins  # still being set up
        assert "is now P0" in h.reply(h.command("sev p0", channel=room.id))
        h.wait_until(lambda: pages(h.emulator, h.carol), timeout=15)
        with h.runtime.session() as session:
            rows = list(session.scalars(select(PageOutbox).order_by(PageOutbox.id)))
            assert [(r.tier_name, r.target) for r in rows if r.kind == "page"] == [
                ("slow-tier1", h.bob),
                ("tier2", h.carol),
            ]
            assert session.get(EscalationState, 1).policy == "default"
        # The summary posted before the change shows the severity as it is now.
        h.emulator.clear_faults()
        h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=15)
        shown = blocks_to_text(summaries(h.emulator, room.id)[0].get("blocks"), "")
        h.wait_until(
            lambda: "P0" in blocks_to_text(summaries(h.emulator, room.id)[0].get("blocks"), ""), timeout=10
        )
        assert shown


def test_an_ack_before_the_summary_exists_is_shown_when_it_is_posted(sqlite_url: str) -> None:
    with _bot(sqlite_url) as h:
        h.emulator.fail("chat.postMessage", status=503, times=None)
        h.command("p1 Checkout returns 502")
        room = h.wait_until(lambda: h.incident_channel(), timeout=15)
        h.wait_until(lambda: _incident(h).channel_id, timeout=15)  # recorded: the room answers commands
        h.command("ack", user=h.bob, channel=room.id)
        h.wait_until(lambda: _events(h, "acknowledged"), timeout=15)
        h.emulator.clear_faults()
        h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=45)

        def shown() -> str:  # posted as read before the ack at worst, then updated to what it is now
            [summary] = summaries(h.emulator, room.id)
            return blocks_to_text(summary.get("blocks"), summary.get("text"))

        h.wait_until(lambda: "🟠 Acknowledged" in shown() and "@U0BOB" in shown(), timeout=10)
