"""Bad input: HTTP 200, a clear ephemeral message saying what to type, nothing created or changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.incidents.models import Incident, TimelineEvent
from tests.harness import Harness


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Harness:
    from bot.db import create_db_engine, migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('bad') / 'w.db'}"
    migrate(create_db_engine(url))
    h = Harness(url)
    yield h
    h.close()


def _state(h: Harness) -> tuple[int, int, int]:
    with h.runtime.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Incident)),
            s.scalar(select(func.count()).select_from(TimelineEvent)),
            len(h.emulator.channels),
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p5 Checkout down", "Unknown severity `p5`"),
        ("p1", "needs a title"),
        ("p1    ", "needs a title"),
        ("p1 " + "x" * 5000, "keep it under 150"),
        ("frobnicate", "Unknown command `frobnicate`"),
        ("ack", "works inside an incident channel"),
        ("resolve", "works inside an incident channel"),
        ("note something", "works inside an incident channel"),
    ],
)
def test_bad_input_answers_and_changes_nothing(harness: Harness, text: str, expected: str) -> None:
    before = _state(harness)
    response = harness.command(text)
    assert response.status == 200
    assert expected in harness.reply(response)
    harness.wait_idle()
    assert _state(harness) == before


def test_resolve_twice_and_unknown_role(harness: Harness) -> None:
    incident = harness.declare("p2 Search is slow")
    room = incident.channel_id
    harness.reply(harness.command("resolve", channel=room))
    harness.wait_idle()
    before = _state(harness)
    assert "already resolved" in harness.reply(harness.command("resolve", channel=room))
    assert "Unknown severity" in harness.reply(harness.command("sev p9", channel=room))
    assert "not a user" in harness.reply(harness.command("commander bob", channel=room))
    assert "Unknown role" in harness.reply(harness.command(f"role janitor <@{harness.bob}>", channel=room))
    harness.wait_idle()
    assert _state(harness) == before


def test_error_text_keeps_placeholders_and_mentions(harness: Harness) -> None:
    incident = harness.declare("p3 Slow dashboards")
    posts = harness.command("role", channel=incident.channel_id).wait_responses(1)
    text = posts[-1]["text"]
    assert "&lt;role&gt;" in text and "<role>" not in text
    from bot.text import escape

    # Placeholders show as typed; mentions of people and channels stay live; links and broadcasts do not.
    assert escape("ask <@U0BOB> in <#C1|ops>: see <https://x.io|doc>, type <text>, <!here>") == (
        "ask <@U0BOB> in <#C1>: see &lt;https://x.io|doc&gt;, type &lt;text&gt;, &lt;!here&gt;"
    )
