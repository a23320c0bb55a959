"""Fixtures: a fresh emulator per test and a slack_sdk client pointed at it."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from devkit.slack_emulator import SlackEmulator


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.bot_token, base_url=emu.api_url)
