"""Control characters, NUL, terminal escapes and bidi overrides never reach storage or Slack."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.incidents.models import Incident, TimelineEvent
from tests.harness import Harness

INVISIBLE = [
    "\x00",
    "\x07",
    "\x1b",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2069",
    "\x9b",
]


def test_titles_notes_and_status_updates_are_cleaned(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        answer = h.reply(h.command("p1 Pay\x00ments \x1b[31mdown\x1b[0m \u202eexe.txt\u202c"), timeout=15)
        assert "Opened" in answer, answer
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.title == "Payments down exe.txt"
        room = incident.channel_id
        assert "Noted" in h.reply(
            h.command("note rolled\x00 back\x1b]0;pwned\x07 to \u2066v1.4\u2069", channel=room)
        )
        assert "posted" in h.reply(h.command("status \x1b[2Jrecovering\x7f", channel=room))
        h.wait_idle()
        with h.runtime.session() as session:
            texts = list(
                session.scalars(select(TimelineEvent.text).where(TimelineEvent.incident_id == incident.id))
            )
            titles = list(session.scalars(select(Incident.title)))
        assert "rolled back to v1.4" in texts and "recovering" in texts
        sent = json.dumps([call.params for call in h.emulator.calls], ensure_ascii=False)
    for text in (*texts, *titles, sent):
        assert not any(char in text for char in INVISIBLE), repr(text)
