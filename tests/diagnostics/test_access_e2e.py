"""Who may run `/diag` and `/remediate`, where, how often: signed slash commands → the bot → what people see.

Each test owns its bot (the policy differs), its database and its people, so xdist may spread them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from tests.diagnostics.conftest import MYSQL_URL, free_port
from tests.harness import Harness

DAVE, SRE = "U0DAVE", "S0SRE"


def _policy(**diagnostics: Any) -> Policy:
    return Policy.model_validate(
        {
            "targets": {"mysql": {"orders": {"url": MYSQL_URL}}},
            "diagnostics": {"timeout": "5s", **diagnostics},
        }
    )


def _harness(url: str, policy: Policy, clock: ManualClock | None = None) -> Harness:
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    h = Harness(url, policy=policy, clock=clock)
    h.emulator.add_user("dave", id=DAVE)
    h.emulator.add_usergroup("sre", users=[DAVE], id=SRE)
    return h


@pytest.fixture
def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warroom.db'}"


def _closed() -> str:
    return f"tcp 127.0.0.1:{free_port()}"


def _ran(h: Harness, channel: str, before: int) -> bool:
    return len(h.emulator.messages(channel)) > before


def _diag(h: Harness, text: str, user: str, channel: str | None = None) -> str:
    """The ephemeral answer to `/diag text` when it is refused, or "" once the run's result is posted."""
    channel = channel or h.general
    before = len(h.emulator.messages(channel))
    response = h.command(text, user=user, channel=channel, name="/diag")
    assert response.status == 200

    def answered() -> tuple[str] | None:
        if response.responses:
            return (str(response.responses[-1].get("text", "")),)
        texts = [m.get("text") or "" for m in h.emulator.messages(channel)[before:]]
        return ("",) if any("/diag" in t and "Running" not in t for t in texts) else None

    return h.wait_until(answered, timeout=10)[0]


def _audit(h: Harness) -> list[AuditEntry]:
    with h.runtime.session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_allow_users_takes_user_ids_and_user_groups(sqlite: str) -> None:
    with _harness(sqlite, _policy(allow_users=["U0CAROL", SRE])) as h:
        before = len(h.emulator.messages(h.general))
        refused = _diag(h, _closed(), h.alice)
        assert "You may not run `/diag`" in refused and "diagnostics.allow_users" in refused
        assert "Ask one of them" in refused
        assert not _ran(h, h.general, before)  # nothing ran, nothing was posted for everyone
        assert _diag(h, _closed(), "U0CAROL") == ""  # by user id
        assert _diag(h, _closed(), DAVE) == ""  # through the user group, read at the command
        remediate = h.command("mysql kill 12", user=h.alice, name="/remediate")
        assert "You may not run `/remediate`" in h.reply(remediate)
        rows = [(r.actor, r.action, r.outcome, r.data.get("reason")) for r in _audit(h)]
        assert (h.alice, "diag", "refused", "not_allowed_user") in rows
        assert (h.alice, "remediate", "refused", "not_allowed_user") in rows
        assert [r[2] for r in rows if r[0] in ("U0CAROL", DAVE)] == ["crit", "crit"]  # closed ports: ran


def test_allow_channels_and_incident_rooms(sqlite: str) -> None:
    with _harness(sqlite, _policy(allow_channels=["C0OPS"])) as h:
        h.emulator.add_channel("ops", id="C0OPS", members=[h.alice], bot_member=True)
        refused = _diag(h, _closed(), h.alice)
        assert "does not run in this channel" in refused and "<#C0OPS>" in refused
        assert "diagnostics.allow_channels" in refused
        assert _diag(h, _closed(), h.alice, channel="C0OPS") == ""
        incident = h.declare()  # a war room's id cannot be listed in advance: it is always allowed
        assert _diag(h, _closed(), h.alice, channel=incident.channel_id) == ""


def test_rate_limit_per_person_per_minute_with_a_retry_time(sqlite: str) -> None:
    clock = ManualClock()  # 09:00:00 exactly: the minute has 60 s left
    with _harness(sqlite, _policy(rate_limit={"per_minute": 3}), clock) as h:
        for _ in range(3):
            assert _diag(h, _closed(), h.alice) == ""
        clock.advance(20)
        refused = _diag(h, _closed(), h.alice)
        assert "Slow down: you have run 3" in refused and "Try again in 40 s" in refused
        assert "diagnostics.rate_limit.per_minute" in refused
        assert "Slow down" in _diag(h, _closed(), h.alice)
        assert _diag(h, _closed(), h.bob) == ""  # per person
        limited = [r for r in _audit(h) if r.data.get("reason") == "rate_limited"]
        assert len(limited) == 1  # a flood of refusals is recorded once a minute, not once a request
        clock.advance(40)
        assert _diag(h, _closed(), h.alice) == ""  # a new minute


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.getfixturevalue("sqlite" if request.param == "sqlite" else "pg_url")


def test_a_burst_of_concurrent_commands_takes_no_more_than_the_limit(any_db: str) -> None:
    with _harness(any_db, _policy(rate_limit={"per_minute": 4}), ManualClock()) as h:
        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(lambda _: h.command(_closed(), user=h.alice, name="/diag"), range(12)))
        assert all(r.status == 200 for r in responses)

        def settled() -> list[AuditEntry] | None:
            rows = [r for r in _audit(h) if r.outcome != "refused"]
            refused = [r for r in responses if r.responses and "Slow down" in r.responses[-1].get("text", "")]
            return rows if len(rows) + len(refused) >= 12 else None

        ran = h.wait_until(settled, timeout=30)
        assert len(ran) == 4
