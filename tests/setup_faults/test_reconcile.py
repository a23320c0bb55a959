"""Issue 9 item 4: reconciliation at start repairs what a crash left — an incident declared by a
process that died before its ladder and set-up were written (or by a version before this fix), and
a set-up claim held by a process that is gone."""

from __future__ import annotations

from datetime import timedelta

from bot.config.policy import EscalationPolicy, Policy, Tier
from bot.escalation.models import EscalationState
from bot.incidents import service as incidents
from bot.incidents.models import SetupStep
from bot.incidents.setup import plan
from bot.scheduler import start_scheduler
from tests.harness import Harness
from tests.setup_faults.support import pages, room_complete

POLICY = Policy(escalation=EscalationPolicy(tiers=[Tier(name="tier1", targets=["U0BOB"], timeout="10m")]))


def test_an_incident_left_without_ladder_or_room_is_paged_and_set_up_at_start(db_url: str) -> None:
    with Harness(db_url, policy=POLICY) as h:
        with h.runtime.session() as session:  # what a crash right after the incident row left
            incidents.declare(
                session,
                POLICY,
                severity="p1",
                title="Orders stuck",
                reporter_id=h.alice,
                origin_channel_id=None,
                now=h.runtime.clock.now(),
            )
        scheduler = start_scheduler(h.runtime)
        try:
            h.wait_until(lambda: pages(h.emulator, h.bob, "Orders stuck"), timeout=15)
            room = h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=15)
            assert h.bob in room.members
            with h.runtime.session() as session:
                assert session.get(EscalationState, 1).tier == 0
        finally:
            scheduler.shutdown(wait=True)


def test_a_claim_held_by_a_dead_process_is_taken_over(db_url: str) -> None:
    with Harness(db_url, policy=POLICY) as h:
        now = h.runtime.clock.now()
        with h.runtime.session() as session:
            incident, _ = incidents.declare(
                session,
                POLICY,
                severity="p1",
                title="Orders stuck",
                reporter_id=h.alice,
                origin_channel_id=None,
                now=now,
            )
            plan(session, incident.id, ["room", "invite", "summary", "checklist"], now)
        with h.runtime.session() as session:  # a process that claimed the room and died long ago
            for row in session.query(SetupStep).filter_by(step="room"):
                row.status, row.claimed_by, row.attempts = "running", "gone-host:1:dead", 1
                row.claimed_at = now - timedelta(minutes=5)
        scheduler = start_scheduler(h.runtime)
        try:
            h.wait_until(lambda: room_complete(h.emulator, 1, h.alice), timeout=20)
        finally:
            scheduler.shutdown(wait=True)
