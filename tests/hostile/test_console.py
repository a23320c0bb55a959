"""The console as a newcomer uses it: stale button numbers, @name mentions, `/incident` alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.incidents.models import Incident
from devkit.console import DEMO_POLICY, Console


@pytest.fixture
def console(sqlite_url: str) -> Iterator[Console]:
    c = Console(sqlite_url, str(DEMO_POLICY))
    try:
        yield c
    finally:
        c.close()


def _incident(console: Console) -> Incident:
    with console.runtime.session() as session:
        row = session.scalar(select(Incident).order_by(Incident.id.desc()).limit(1))
        assert row is not None
        return row


def _number(console: Console, label: str) -> int:
    """The newest number shown for a button with this label in the war room (not in a page DM)."""
    room = _incident(console).channel_id
    return max(
        n for n, (channel, _, ref) in console.screen.buttons.items() if channel == room and ref.label == label
    )


def test_a_number_presses_the_button_it_was_shown_on_or_nothing(console: Console, capsys) -> None:  # type: ignore[no-untyped-def]
    console.handle("/incident p1 Checkout returns 502")
    status_update, acknowledge = _number(console, "Status update"), _number(console, "Acknowledge")
    resolve = _number(console, "Resolve")
    assert acknowledge < status_update < resolve  # [ack] [status] [resolve] on the summary
    console.handle(":as lead")
    console.handle("/incident ack")  # the summary is updated: Acknowledge goes, the others move up
    capsys.readouterr()
    console.handle(f":press {acknowledge}")
    said = capsys.readouterr().out
    assert "no longer on that message" in said and "nothing was pressed" in said
    console.handle(f":press {status_update}")  # was [2]; [2] of the updated message is Resolve now
    assert _incident(console).status == "acknowledged"
    assert console.emu.open_modals("U0LEAD"), "the Status update button opens its modal"


def test_at_name_is_a_mention_of_that_person(console: Console) -> None:
    console.handle("/incident p2 Search is slow")
    console.handle("/incident commander @lead")
    assert _incident(console).commander_id == "U0LEAD"
    console.handle("/incident note asked @oncall and @nobody-here")
    with console.runtime.session() as session:
        from bot.incidents.models import TimelineEvent

        texts = list(session.scalars(select(TimelineEvent.text).where(TimelineEvent.kind == "note")))
    assert texts == ["asked <@U0ONCALL|oncall> and @nobody-here"]


def test_incident_alone_prints_the_declare_modal(console: Console, capsys) -> None:  # type: ignore[no-untyped-def]
    console.handle("/incident")
    said = capsys.readouterr().out
    assert "── modal:" in said and "Declare" in said
    assert "/incident p1 <title>" in said
