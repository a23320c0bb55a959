"""Forged, stale and unsigned requests get 401 and create nothing (SPEC §8)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.incidents.models import Incident
from tests.harness import Harness


def test_forged_stale_and_unsigned_requests_are_rejected(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        forged = h.driver.command("/incident", "p1 Forged", user_id=h.alice, signature="v0=" + "0" * 64)
        stale = h.driver.command(
            "/incident", "p1 Stale", user_id=h.alice, timestamp=int(time.time()) - 6 * 60
        )
        unsigned = h.driver.command("/incident", "p1 Unsigned", user_id=h.alice, signed=False)
        assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
        time.sleep(0.5)
        with h.runtime.session() as s:
            assert s.scalar(select(func.count()).select_from(Incident)) == 0
        assert not [c for c in h.emulator.channels.values() if c.name.startswith("inc-")]
        assert h.emulator.calls_to("conversations.create") == []


def test_health_endpoints(sqlite_url: str) -> None:
    import urllib.request

    with Harness(sqlite_url) as h:
        for path in ("/healthz", "/readyz"):
            with urllib.request.urlopen(h.url + path, timeout=5) as response:
                assert response.status == 200
