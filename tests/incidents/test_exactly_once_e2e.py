"""Retries and repeats never make a second incident or a second timeline entry."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.incidents.models import Incident, TimelineEvent
from tests.harness import Harness


def _count(h: Harness, model, *where) -> int:  # type: ignore[no-untyped-def]
    with h.runtime.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_same_request_delivered_twice_creates_one_incident(db_url: str) -> None:
    with Harness(db_url) as h:
        form = {
            "command": "/incident",
            "text": "p1 Checkout API returns 502",
            "user_id": h.alice,
            "channel_id": h.general,
            "team_id": h.emulator.team_id,
            "trigger_id": "1337.42.abcdef",
            "response_url": h.emulator.new_response_url(h.general, h.alice),
        }
        body = urlencode(form)
        first = h.driver.send(body, "application/x-www-form-urlencoded")
        second = h.driver.send(body, "application/x-www-form-urlencoded")
        assert first.status == second.status == 200
        h.emulator.wait_for(h.incident_channel, timeout=5)
        h.wait_idle()
        assert _count(h, Incident) == 1
        assert len([c for c in h.emulator.channels.values() if c.name.startswith("inc-")]) == 1


def test_person_repeating_the_declaration_gets_the_first_incident(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        h.declare("p1 Checkout API returns 502")
        again = h.command("p1 Checkout API returns 502")
        assert "No second incident" in h.reply(again)
        assert _count(h, Incident) == 1


def test_pin_and_pushpin_events_retried_record_one_entry(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        incident = h.declare()
        room = incident.channel_id
        message = h.emulator.add_message(room, h.bob, "Error rate back under 1% after the rollback")
        pin = {
            "type": "pin_added",
            "user": h.bob,
            "channel_id": room,
            "item": {"type": "message", "channel": room, "message": {"ts": message["ts"]}},
        }
        h.driver.event(pin, event_id="Ev01PIN")
        h.driver.event(pin, event_id="Ev01PIN", retry_num=1)
        react = {
            "type": "reaction_added",
            "user": h.carol,
            "reaction": "pushpin",
            "item": {"type": "message", "channel": room, "ts": message["ts"]},
        }
        h.driver.event(react, event_id="Ev02REACT")
        other = h.emulator.add_message(room, h.carol, "Root cause: connection pool exhausted")
        h.driver.event(
            {**react, "item": {"type": "message", "channel": room, "ts": other["ts"]}}, event_id="Ev03"
        )
        h.driver.event({**react, "reaction": "eyes"}, event_id="Ev04")
        h.wait_idle()
        with h.runtime.session() as s:
            events = s.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == incident.id, TimelineEvent.kind.in_(["pin", "reaction"])
                )
            ).all()
            texts = sorted(e.text for e in events)
            assert texts == [
                "Error rate back under 1% after the rollback",
                "Root cause: connection pool exhausted",
            ]
            assert all(e.link and e.link.startswith("https://") for e in events)


def test_note_request_retried_is_recorded_once(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        incident = h.declare()
        form = {
            "command": "/incident",
            "text": "note failing over to the standby",
            "user_id": h.alice,
            "channel_id": incident.channel_id,
            "trigger_id": "999.1.retry",
            "response_url": h.emulator.new_response_url(incident.channel_id, h.alice),
        }
        for _ in range(2):
            h.driver.send(urlencode(form), "application/x-www-form-urlencoded")
        h.wait_idle()
        assert _count(h, TimelineEvent, TimelineEvent.kind == "note") == 1
