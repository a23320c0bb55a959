"""The bad-signature counter tells the whole of a flood: the first refusal at once, the rest when the
minute is up — even when the flood stops and no further refusal comes to trigger it."""

from __future__ import annotations

import logging
import time

import pytest

from bot.http import BadSignatures


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "bad signatures" in r.getMessage()]


def test_the_tail_of_a_flood_is_told_when_the_window_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.http")
    counter = BadSignatures(every=0.3)
    for _ in range(40):
        counter.record()
    assert _told(caplog) == ["1 request with bad signatures in the last minute"]
    deadline = time.monotonic() + 5
    while len(_told(caplog)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _told(caplog) == [
        "1 request with bad signatures in the last minute",
        "39 requests with bad signatures in the last minute",
    ]
    time.sleep(0.5)  # nothing more came: nothing more is said
    assert len(_told(caplog)) == 2


def test_a_quiet_counter_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.http")
    counter = BadSignatures(every=0.1)
    counter.flush()
    assert _told(caplog) == [] and counter.timer is None
