"""Real engines for `/remediate`: the Kubernetes API stand-in, moto in server mode, the test Docker
engine and the machine's MariaDB, behind one bot (the real HTTP app and the Slack emulator).

People: alice asks, bob may not confirm, carol is a remediator by user id, dave through the user
group S0SRE (resolved with usergroups.users.list at click time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from bot.incidents.models import TimelineEvent
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.support.docker_engine import ENGINE_URL
from tests.support.k8s_api import FakeKubeAPI
from tests.support.moto_server import moto_server

MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
REGION = "us-east-1"
CAROL, DAVE, SRE_GROUP = "U0CAROL", "U0DAVE", "S0SRE"
TTL_SECONDS = 300


def make_policy(kubeconfig: Path, aws_url: str) -> Policy:
    return Policy.model_validate(
        {
            "targets": {
                "k8s": {
                    "prod": {"kubeconfig": str(kubeconfig), "context": "test", "namespaces": ["ecommerce"]}
                },
                "docker": {"local": {"url": ENGINE_URL}},
                "aws": {"main": {"region": REGION, "endpoint_url": aws_url}},
                "mysql": {"orders": {"url": MYSQL_URL}},
            },
            "roles": {"remediators": [CAROL, SRE_GROUP]},
            "remediation": {
                "confirm_ttl": f"{TTL_SECONDS}s",
                "scale": {"min": 1, "max": 6},
                "ebs_max_gib": 500,
            },
            # One person drives every test of a module on a stopped clock: the rate limit has its own tests.
            "diagnostics": {"timeout": "8s", "rate_limit": {"per_minute": 10_000}},
        }
    )


@pytest.fixture(scope="module")
def kube() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api


@pytest.fixture(autouse=True)
def fresh_cluster(request: pytest.FixtureRequest) -> None:
    """The module shares one API server (it costs seconds to start) but no state: xdist spreads a
    module's tests over workers in any order, so a test that read what an earlier one scaled
    ("replicas 4 → 2" where "5 → 2" was written) passed or failed by the luck of the draw."""
    if "kube" in request.fixturenames:
        request.getfixturevalue("kube").reset()


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Bot:
    h: Harness
    clock: ManualClock
    kube: FakeKubeAPI
    aws_url: str

    @property
    def bot_user(self) -> str:
        return self.h.emulator.bot_user_id

    # -- what people do
    def remediate(self, text: str, user: str | None = None, channel: str | None = None) -> dict[str, Any]:
        """Run `/remediate text`; the preview message it posts (with its buttons)."""
        channel = channel or self.h.general
        before = len(self.h.emulator.messages(channel))
        started = time.monotonic()
        response = self.h.command(text, user=user or self.h.alice, channel=channel, name="/remediate")
        assert response.status == 200, response.body
        assert time.monotonic() - started < 3.0  # the ack comes at once
        return self.h.wait_until(lambda: self._new_preview(channel, before), timeout=15)

    def ask(self, text: str, user: str | None = None, channel: str | None = None) -> str:
        """Run `/remediate text` when no preview is expected: the ephemeral answer."""
        response = self.h.command(text, user=user or self.h.alice, channel=channel, name="/remediate")
        assert response.status == 200, response.body
        return self.h.reply(response, timeout=15)

    def click(self, message: dict[str, Any], user: str, action: str = "remediate_confirm", value: str | None = None,
              channel: str | None = None) -> None:  # fmt: skip
        response = self.h.driver.block_action(
            user, channel or self.h.general, message["ts"], action, value=value
        )
        assert response.status == 200, response.body

    # -- what people see
    def _new_preview(self, channel: str, before: int) -> dict[str, Any] | None:
        for message in self.h.emulator.messages(channel)[before:]:
            if message.get("user") == self.bot_user and _has_buttons(message):
                return message
        return None

    def message(self, ts: str, channel: str | None = None) -> dict[str, Any]:
        return next(m for m in self.h.emulator.messages(channel or self.h.general) if m["ts"] == ts)

    def settled(self, message: dict[str, Any], channel: str | None = None, timeout: float = 30) -> str:
        """The preview's text once it has been updated to a final state (no buttons, not "applying")."""

        def done() -> str | None:
            now = self.message(message["ts"], channel)
            text = blocks_to_text(now.get("blocks"), now.get("text"))
            return text if not _has_buttons(now) and "applying…" not in text else None

        return self.h.wait_until(done, timeout=timeout)

    def private(self, user: str, count_before: int, channel: str | None = None, timeout: float = 10) -> str:
        """The next ephemeral (or DM) answer to `user` after `count_before` of them."""

        def answer() -> str | None:
            notes = self.h.emulator.ephemerals(channel or self.h.general, user) + self.h.emulator.dms(user)
            return str(notes[-1]["text"]) if len(notes) > count_before else None

        return self.h.wait_until(answer, timeout=timeout)

    def private_count(self, user: str, channel: str | None = None) -> int:
        return len(self.h.emulator.ephemerals(channel or self.h.general, user)) + len(
            self.h.emulator.dms(user)
        )

    def audit(self, since: int = 0) -> list[AuditEntry]:
        with self.h.runtime.session() as session:
            query = select(AuditEntry).where(AuditEntry.action == "remediate", AuditEntry.id > since)
            return list(session.scalars(query.order_by(AuditEntry.id)))

    def last_audit_id(self) -> int:
        rows = self.audit()
        return rows[-1].id if rows else 0

    def outcomes(self, since: int) -> list[str]:
        return [row.outcome for row in self.audit(since)]

    def timeline(self, incident_id: int) -> list[TimelineEvent]:
        with self.h.runtime.session() as session:
            query = select(TimelineEvent).where(
                TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "remediation"
            )
            return list(session.scalars(query.order_by(TimelineEvent.id)))

    def wait(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        return self.h.wait_until(predicate, timeout=timeout)


def _has_buttons(message: dict[str, Any]) -> bool:
    return any(b.get("block_id") == "remediate_actions" for b in message.get("blocks") or [])


@pytest.fixture(scope="module")
def bot(kube: FakeKubeAPI, aws_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """One bot for the module: starting and stopping the harness costs seconds."""
    tmp = tmp_path_factory.mktemp("remediate")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    clock = ManualClock()
    policy = make_policy(kube.write_kubeconfig(tmp / "kubeconfig"), aws_url)
    with Harness(url, policy=policy, clock=clock) as h:
        h.emulator.add_user("dave", id=DAVE)
        h.emulator.add_usergroup("sre", users=[DAVE], id=SRE_GROUP)
        yield Bot(h, clock, kube, aws_url)
