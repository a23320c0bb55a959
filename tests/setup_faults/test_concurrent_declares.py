"""Issue 9 item 5 and issue 10 item 2: one declaration sent many times at once opens one incident,
and everybody who sent it is answered with that incident — never "Something went wrong", never
"(no channel)". Through signed requests to the real HTTP endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.incidents.models import Incident
from tests.harness import Harness
from tests.setup_faults.support import room_complete


def _count(h: Harness) -> int:
    with h.runtime.session() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def _assert_all_told_the_one_incident(answers: list[str], handle: str) -> None:
    assert len(answers) == 20 or len(answers) == 8
    for answer in answers:
        assert handle in answer, answer
        assert "went wrong" not in answer and "(no channel)" not in answer, answer
    assert sum("Opened" in a for a in answers) == 1, answers


def test_twenty_identical_declarations_at_once_open_one_incident(db_url: str) -> None:
    with Harness(db_url) as h:
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda _: h.command("p1 Storm of double clicks"), range(20)))
        assert all(r.status == 200 for r in responses)
        answers = [h.reply(r, timeout=20) for r in responses]
        assert _count(h) == 1
        incident = h.latest_incident()
        assert incident is not None
        _assert_all_told_the_one_incident(answers, f"INC-{incident.id}")
        h.wait_until(lambda: room_complete(h.emulator, incident.id, h.alice), timeout=15)
        assert len([c for c in h.emulator.channels.values() if c.name.startswith("inc-")]) == 1


def test_one_request_replayed_eight_times_at_once_answers_everyone(db_url: str) -> None:
    with Harness(db_url) as h:
        h.emulator.latency("conversations.create", 1.0)  # the replays arrive while the room is being made
        form = {
            "command": "/incident",
            "text": "p1 Checkout API returns 502",
            "user_id": h.alice,
            "channel_id": h.general,
            "team_id": h.emulator.team_id,
            "trigger_id": "1337.42.replayed",
        }

        def send(_: int):  # type: ignore[no-untyped-def]
            # The same signed request each time; its own response_url so each answer can be read.
            url = h.emulator.new_response_url(h.general, h.alice)
            body = urlencode({**form, "response_url": url})
            return h.driver.send(body, "application/x-www-form-urlencoded", response_url=url)

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, range(8)))
        assert all(r.status == 200 for r in responses)
        answers = [h.reply(r, timeout=20) for r in responses]
        assert _count(h) == 1
        incident = h.latest_incident()
        assert incident is not None
        _assert_all_told_the_one_incident(answers, f"INC-{incident.id}")
        assert any("being set up" in a for a in answers if "Opened" not in a), answers
        h.wait_until(lambda: room_complete(h.emulator, incident.id, h.alice), timeout=15)
        assert len([c for c in h.emulator.channels.values() if c.name.startswith("inc-")]) == 1
