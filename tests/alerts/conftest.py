"""Fixtures of the alerts tests: the harness (real HTTP endpoint + emulator) with an alerts policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.helpers import ANNOUNCE, ONCALL, policy, token_env
from tests.harness import Harness


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    env, value = token_env()
    monkeypatch.setenv(env, value)
    return env, value


@pytest.fixture
def harness(db_url: str, token: tuple[str, str]) -> Iterator[Harness]:
    with Harness(db_url, policy=policy(token[0])) as h:
        h.emulator.add_user("oncall", id=ONCALL)
        h.emulator.add_channel("incidents", id=ANNOUNCE)
        yield h
