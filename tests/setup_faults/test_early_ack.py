"""Issue 17: an ack at any moment after the declaration — before, during or after set-up, on any
replica — stops escalation. Real `warroom run` processes, Slack made slow on one set-up method.

Each run declares three incidents acknowledged 0, 300 and 1,000 ms after their declaration was
answered, one marked mitigated and one resolved as soon as their summary is up (the room still being
set up), plus a control incident nobody acknowledges: its tier 2 page proves the ticks ran past
tier 2's due time, so the absence of the others' tier 2 pages means something.
"""

from __future__ import annotations

import threading
import time

import pytest

from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents.models import Incident
from devkit.slack_emulator import SlackEmulator, collect_actions
from tests.escalation.helpers import LEAD, ONCALL, REPORTER
from tests.escalation.processes import BotProcess
from tests.setup_faults.support import pages, rows, summaries, write_config

pytestmark = [pytest.mark.slow]

SLOW = [("pins.add", 0.5), ("conversations.create", 1.0), ("chat.postMessage", 0.3)]
DELAYS = (0.0, 0.3, 1.0)
CHANGES = (("mitigated", "mitigated"), ("resolve", "resolved"))  # command, the status it leaves


def _ack_button(emu: SlackEmulator, title: str) -> tuple[str, str] | None:
    """The first message with an Acknowledge button for this incident: the page DM or the summary."""
    for channel in list(emu.channels.values()):
        for message in list(channel.messages):
            text = str(message.get("text", ""))
            if title in text and any(
                a.action_id == "incident_ack" for a in collect_actions(message.get("blocks"))
            ):
                return channel.id, message["ts"]
    return None


def _summary(emu: SlackEmulator, title: str) -> tuple[str, str] | None:
    """The room's summary for this incident, posted (and answering commands) while set-up goes on."""
    for channel in list(emu.channels.values()):
        if channel.name.startswith("inc-"):
            for message in summaries(emu, channel.id):
                if title in str(message.get("text", "")):
                    return channel.id, message["ts"]
    return None


def _declare_and_ack(
    emu: SlackEmulator, declarer: BotProcess, acker: BotProcess, title: str, delay: float
) -> None:
    started = time.monotonic()
    assert declarer.driver.command("/incident", f"p1 {title}", user_id=REPORTER).status == 200
    answered = time.monotonic()
    channel, ts = emu.wait_for(lambda: _ack_button(emu, title), timeout=15, interval=0.005)
    time.sleep(max(0.0, answered + delay - time.monotonic()))
    assert acker.driver.block_action(ONCALL, channel, ts, "incident_ack").status == 200
    print(f"{title}: acked {time.monotonic() - started:.3f}s after the declare was sent")


def _declare_and_change(
    emu: SlackEmulator, declarer: BotProcess, changer: BotProcess, title: str, command: str
) -> None:
    assert declarer.driver.command("/incident", f"p1 {title}", user_id=REPORTER).status == 200
    channel, _ts = emu.wait_for(lambda: _summary(emu, title), timeout=15, interval=0.005)
    assert changer.driver.command("/incident", command, user_id=ONCALL, channel_id=channel).status == 200


def _run(emu: SlackEmulator, db_url: str, tmp_path, slow: tuple[str, float], replicas: int) -> None:
    config = write_config(tmp_path)
    bots = [BotProcess(f"bot-{n}", emu, db_url, config, tmp_path) for n in range(replicas)]
    try:
        for bot in bots:
            bot.wait_healthy()
        emu.latency(*slow)
        declarer, acker = bots[0], bots[-1]  # with two replicas the ack goes to the other one
        titles = [f"Early ack {int(d * 1000)} ms" for d in DELAYS]
        threads = [
            threading.Thread(target=_declare_and_ack, args=(emu, declarer, acker, t, d))
            for t, d in zip(titles, DELAYS, strict=True)
        ]
        changed = {f"Early {cmd}": status for cmd, status in CHANGES}
        threads += [
            threading.Thread(target=_declare_and_change, args=(emu, declarer, acker, f"Early {cmd}", cmd))
            for cmd, _ in CHANGES
        ]
        for thread in threads:
            thread.start()
        assert declarer.driver.command("/incident", "p1 Control nobody acks", user_id=REPORTER).status == 200
        for thread in threads:
            thread.join(30)
        # The control incident reaching tier 2 proves tier 2's due time has come and gone for all.
        emu.wait_for(lambda: pages(emu, LEAD, "Control nobody acks"), timeout=20)
        time.sleep(1.2)  # one more tick on every replica
        for title in [*titles, *changed]:
            assert pages(emu, LEAD, title) == [], f"{title}: tier 2 paged after the ack"
            assert len(pages(emu, ONCALL, title)) <= 1
        stopped = rows(db_url, Incident, Incident.title.in_(list(changed)))
        assert {i.title: i.status for i in stopped} == changed
        assert [
            s.stopped_reason
            for s in rows(db_url, EscalationState, EscalationState.incident_id.in_([i.id for i in stopped]))
        ] == [changed[i.title] for i in stopped]
        acked = rows(db_url, Incident, Incident.title.in_(titles))
        assert [i.status for i in acked] == ["acknowledged"] * 3 and {i.acknowledged_by for i in acked} == {
            ONCALL
        }
        states = rows(db_url, EscalationState, EscalationState.incident_id.in_([i.id for i in acked]))
        assert [s.stopped_reason for s in states] == ["acknowledged"] * 3
        tier2 = rows(
            db_url, PageOutbox, PageOutbox.incident_id.in_([i.id for i in acked]), PageOutbox.tier == 1
        )
        assert all(r.status == "cancelled" for r in tier2)
    finally:
        emu.clear_faults()
        for bot in bots:
            bot.stop()


@pytest.mark.parametrize("slow", SLOW, ids=[m for m, _ in SLOW])
def test_early_ack_on_sqlite_never_pages_tier_two(emu, sqlite_url, tmp_path, slow) -> None:
    _run(emu, sqlite_url, tmp_path, slow, replicas=1)


@pytest.mark.postgres
@pytest.mark.parametrize("slow", SLOW, ids=[m for m, _ in SLOW])
def test_early_ack_on_the_other_replica_never_pages_tier_two(emu, pg_url, tmp_path, slow) -> None:
    _run(emu, pg_url, tmp_path, slow, replicas=2)
