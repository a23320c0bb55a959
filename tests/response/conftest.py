"""Fixtures of the response-clock tests: a Slack emulator with the guide's people in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.slack_emulator import SlackEmulator
from tests.escalation.helpers import seed_users


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        seed_users(emulator)
        yield emulator
