"""Messages that leave a private incident's room (the review reminder DM, pages) carry no title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.incidents.models import Incident
from bot.incidents.views import IncidentView
from bot.postmortem.models import ReviewReminder
from bot.postmortem.reminders import reminder_text

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _incident(private: bool) -> Incident:
    return Incident(id=7, title="Leaked signing key", severity="p1", status="resolved", reporter_id="U0A",
                    channel_id="C0ROOM", declared_at=NOW, response_due_at=NOW, private=private)  # fmt: skip


def test_the_review_reminder_dm_of_a_private_incident_names_no_title() -> None:
    row = ReviewReminder(incident_id=7, due_at=NOW - timedelta(days=1))
    assert "Leaked signing key" in reminder_text(_incident(False), row, NOW, timedelta(days=3))
    text = reminder_text(_incident(True), row, NOW, timedelta(days=3))
    assert "Leaked signing key" not in text and "restricted incident" in text and "INC-7" in text


def test_the_outside_view_hides_title_status_and_alert_only_when_private() -> None:
    public = IncidentView.of(_incident(False), "严重 major", last_status_update="key revoked")
    assert public.outside() is public
    hidden = IncidentView.of(_incident(True), "严重 major", last_status_update="key revoked").outside()
    assert (hidden.title, hidden.last_status_update, hidden.handle) == ("restricted incident", None, "INC-7")
