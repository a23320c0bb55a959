"""Outputs that must tell the truth, through signed requests and the uploaded file.

An incident nobody acknowledged never gets a ✅ for acknowledging (en and zh), and a DSN with
its password typed into a note or a status update is masked everywhere it is shown again.
"""

from __future__ import annotations

import pytest

from bot.config.policy import Policy
from tests.harness import Harness


def _posted_draft(h: Harness, room: str) -> tuple[str, str]:
    """(the upload's comment, the Markdown file's content) of the postmortem draft in `room`."""
    h.wait_until(lambda: any(f.uploaded for f in h.emulator.uploaded_files(room)), timeout=15)
    h.wait_idle()
    file = next(f for f in h.emulator.uploaded_files(room) if f.uploaded)
    comments = [
        str(m.get("text", ""))
        for m in h.emulator.messages(room)
        if "Postmortem draft" in str(m.get("text", "")) or "故障复盘草稿" in str(m.get("text", ""))
    ]
    return (comments[-1] if comments else ""), file.content.decode()


@pytest.mark.parametrize(
    ("language", "comment_says", "row"),
    [
        ("en", "never acknowledged", "| Time to acknowledge | — | 1d | — |"),
        ("zh", "未确认", "| 确认用时 | — | 1d | — |"),
    ],
)
def test_nobody_acknowledged_is_never_ticked(
    sqlite_url: str, language: str, comment_says: str, row: str
) -> None:
    with Harness(sqlite_url, policy=Policy(language=language)) as h:
        incident = h.declare("p3 Reports are slow")
        room = incident.channel_id
        assert room
        answer = h.reply(h.command("resolve", channel=room))
        assert "resolved" in answer or "已解决" in answer, answer
        comment, body = _posted_draft(h, room)
    ack_part = next(part for part in comment.split("·") if comment_says in part)
    assert "✅" not in ack_part, comment
    assert row in body, body
    assert "not acknowledged yet ✅" not in comment and "尚未确认 ✅" not in comment


def test_a_dsn_typed_into_notes_is_masked_everywhere(sqlite_url: str) -> None:
    dsn = "postgresql://app:hunter2pw@db.internal:5432/shop"
    with Harness(sqlite_url) as h:
        incident = h.declare(f"p2 Orders fail against {dsn}")
        room = incident.channel_id
        assert room
        h.reply(h.command(f"note connected with {dsn} from the bastion", channel=room))
        h.reply(h.command(f"status failing over, DB_PASSWORD=hunter2pw in {dsn}", channel=room))
        timeline = h.reply(h.command("timeline", channel=room))
        h.reply(h.command("resolve", channel=room))
        _, body = _posted_draft(h, room)
        everything = repr([call.params for call in h.emulator.calls]) + timeline + body
    leaks = [
        everything[max(0, i - 150) : i + 40]
        for i in range(len(everything))
        if everything.startswith("hunter2pw", i)
    ]
    assert leaks == []
    assert "postgresql://app:*****@db.internal:5432/shop" in body
    assert "DB_PASSWORD=*****" in everything
