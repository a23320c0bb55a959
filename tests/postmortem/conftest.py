"""Fixtures for the postmortem tests: a migrated database, a runtime on fake ports, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from bot.runtime import Runtime
from tests.postmortem.helpers import T0, FakePorts, make_runtime


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def ports() -> FakePorts:
    return FakePorts()


@pytest.fixture
def runtime(sqlite_url: str, clock: ManualClock, ports: FakePorts) -> Iterator[Runtime]:
    rt = make_runtime(sqlite_url, clock=clock, ports=ports)
    yield rt
    rt.engine.dispose()
