"""Real `warroom run` processes on PostgreSQL: a SIGKILL mid-escalation, and two replicas × 200 incidents."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config.loader import load_policy_text
from bot.db import create_db_engine, make_session_factory
from bot.db.engine import session_scope
from bot.escalation import service as escalation
from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents.models import Incident
from tests.escalation.helpers import DIRECTOR, LEAD, ONCALL, REPORTER, pages, seed_open_incidents
from tests.escalation.processes import BotProcess

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SHORT_LADDER = f"""
escalation:
  tiers:
    - {{name: tier1, targets: [{ONCALL}], timeout: 2s}}
    - {{name: tier2, targets: [{LEAD}], timeout: 2s}}
    - {{name: tier3, targets: [{DIRECTOR}], timeout: 2s}}
"""


def _rows(pg_url: str, **where: object) -> list[PageOutbox]:
    engine = create_db_engine(pg_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            query = select(PageOutbox).filter_by(**where).order_by(PageOutbox.id)
            return list(session.scalars(query))
    finally:
        engine.dispose()


def test_sigkill_mid_escalation_then_restart_after_the_next_tier_fell_due(emu, pg_url, tmp_path) -> None:
    config = tmp_path / "warroom.yml"
    config.write_text(SHORT_LADDER)
    first = BotProcess("first", emu, pg_url, config, tmp_path).wait_healthy()
    second = None
    try:
        assert first.driver.command("/incident", "p1 Checkout returns 502", user_id=REPORTER).status == 200
        emu.wait_for(lambda: pages(emu, ONCALL), timeout=10)
        emu.wait_for(lambda: [r for r in _rows(pg_url, tier=0) if r.status == "sent"], timeout=5)
        declared = datetime.now(UTC)
        first.kill()  # mid-escalation: tier 2 is due in ~2 s and nobody is running
        killed_at = time.monotonic()

        time.sleep(3.5)  # tier 2 falls due while no bot runs
        assert pages(emu, LEAD) == []
        [tier1] = _rows(pg_url, tier=0)
        assert tier1.status == "sent"

        second = BotProcess("second", emu, pg_url, config, tmp_path).wait_healthy()
        emu.wait_for(lambda: pages(emu, LEAD), timeout=10)
        emu.wait_for(lambda: pages(emu, DIRECTOR), timeout=10)
        incident_channel = emu.find_channel_prefix("inc-")
        emu.wait_for(
            lambda: [
                m for m in emu.messages(incident_channel.id) if "Escalation exhausted" in m.get("text", "")
            ],
            timeout=10,
        )
        time.sleep(1.2)  # more ticks: nothing else may go out

        # Exactly once each: tier 1 was not re-sent by the new process, tier 2 was sent once, late.
        assert [len(pages(emu, u)) for u in (ONCALL, LEAD, DIRECTOR)] == [1, 1, 1]
        rows = [r for r in _rows(pg_url) if r.kind == "page"]
        assert [(r.tier, r.status) for r in rows] == [(0, "sent"), (1, "sent"), (2, "sent")]
        tier2 = rows[1]
        downtime = time.monotonic() - killed_at
        assert tier2.sent_at - tier2.due_at > timedelta(seconds=1.0)  # it fell due while nobody ran
        assert tier2.due_at < declared + timedelta(seconds=3)
        assert rows[0].deliveries["slack"]["by"] != tier2.deliveries["slack"]["by"]  # two different processes
        print(
            f"tier 2 sent {(tier2.sent_at - tier2.due_at).total_seconds():.2f}s after due (downtime {downtime:.1f}s)"
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()


REPLICA_LADDER = f"""
severities:
  p1: {{escalation: slow}}  # the incident declared over HTTP: slow enough to acknowledge first
escalation_policies:
  slow:
    tiers:
      - {{name: tier1, targets: [S0SRE], timeout: 30s}}
      - {{name: tier2, targets: [{DIRECTOR}], timeout: 30s}}
escalation:
  tiers:
    - {{name: tier1, targets: [S0SRE], timeout: 2s}}
    - {{name: tier2, targets: [{DIRECTOR}], timeout: 2s}}
"""


def _seed_incidents(pg_url: str, policy_text: str, channels: list[str], start_in: float) -> list[int]:
    """200 open incidents whose tier 1 falls due `start_in` seconds from now, as if just declared."""
    due = datetime.now(UTC) + timedelta(seconds=start_in)
    return seed_open_incidents(
        pg_url,
        load_policy_text(policy_text),
        channels,
        due,
        "replica",
        lambda session, incident: escalation.start(session, incident, due),
    )


def test_two_replicas_page_every_key_exactly_once(emu, pg_url, tmp_path) -> None:
    emu.add_usergroup("sre", [ONCALL, LEAD], id="S0SRE")
    config = tmp_path / "warroom.yml"
    config.write_text(REPLICA_LADDER)
    replicas = [BotProcess(name, emu, pg_url, config, tmp_path) for name in ("replica-a", "replica-b")]
    try:
        for bot in replicas:
            bot.wait_healthy()
        channels = [emu.add_channel(f"inc-replica-{n}").id for n in range(200)]
        ids = _seed_incidents(pg_url, REPLICA_LADDER, channels, start_in=1.0)

        # A command may arrive at any replica: declare on one, acknowledge on the other.
        a, b = replicas
        assert a.driver.command("/incident", "p1 Cart empty", user_id=REPORTER).status == 200
        declared = emu.wait_for(lambda: emu.find_channel_prefix("inc-2"), timeout=10)
        emu.wait_for(
            lambda: len([m for m in emu.dms(ONCALL) if "Cart empty" in m.get("text", "")]), timeout=10
        )
        # The on-call person types the ack in the room once invited there (the room exists in Slack a
        # moment before the bot has recorded it; a command sent in between is told it is no war room).
        emu.wait_for(lambda: ONCALL in emu.channels[declared.id].members, timeout=20)
        assert b.driver.command("/incident", "ack", user_id=ONCALL, channel_id=declared.id).status == 200

        expected_pages = (
            len(ids) * 3 + 2
        )  # 2 group members + the director per seeded incident; 2 for the declared one
        emu.wait_for(
            lambda: len([r for r in _rows(pg_url, kind="page") if r.status == "sent"]) >= expected_pages,
            timeout=40,
            interval=0.5,
        )
        time.sleep(2.5)  # let both replicas tick on: nothing more may go out

        rows = _rows(pg_url, kind="page")
        assert len(rows) == expected_pages and {r.status for r in rows} == {"sent"}
        keys = Counter((r.incident_id, r.loop, r.tier, r.target) for r in rows)
        assert max(keys.values()) == 1
        # What the people saw: one DM per (incident, tier) each, never two.
        for user, count in ((ONCALL, len(ids) + 1), (LEAD, len(ids) + 1), (DIRECTOR, len(ids))):
            dms = pages(emu, user)
            assert len(dms) == count, (user, len(dms))
            per_incident = Counter(m["blocks"][-1]["elements"][0]["value"] for m in dms)
            assert max(per_incident.values()) == 1
        # Both replicas did real work, and the acknowledged incident's tier 2 never went out.
        workers = Counter(r.deliveries["slack"]["by"] for r in rows)
        assert len(workers) == 2, workers
        engine = create_db_engine(pg_url)
        with session_scope(make_session_factory(engine)) as session:
            acked = session.scalar(select(Incident).where(Incident.channel_id == declared.id))
            assert acked.acknowledged_by == ONCALL
            assert session.get(EscalationState, acked.id).stopped_reason == "acknowledged"
        engine.dispose()
        assert [m for m in pages(emu, DIRECTOR) if "Cart empty" in m.get("text", "")] == []
        exhausted = [
            c for c in channels if any("Escalation exhausted" in m.get("text", "") for m in emu.messages(c))
        ]
        assert len(exhausted) == len(channels)
        lateness = sorted((r.sent_at - r.due_at).total_seconds() for r in rows if r.incident_id in set(ids))
        print(
            f"replicas: {dict(workers)}; lateness p50 {lateness[len(lateness) // 2]:.3f}s "
            f"max {lateness[-1]:.3f}s over {len(lateness)} pages"
        )
    finally:
        for bot in replicas:
            bot.stop()
