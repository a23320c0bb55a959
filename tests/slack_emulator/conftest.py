"""Fixtures: a fresh emulator per test, a slack_sdk client pointed at it, and a raw far end (`server`)."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from devkit.slack_emulator import SlackEmulator

from .raw_server import RawServer


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=emu.bot_token, base_url=emu.api_url)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    """A RawServer in the mode the test parametrizes indirectly ("keep-alive", "never-answer", ...)."""
    raw = RawServer(request.param)
    yield raw
    raw.close()
