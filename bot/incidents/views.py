"""IncidentView: an immutable snapshot of an incident handed to ports and renderers (no session needed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import N_, _, word_for

if TYPE_CHECKING:
    from bot.incidents.models import Incident


DRILL = N_("DRILL")

# An incident's status as people read it (the stored value is the English key).
STATUS_WORDS = {
    "declared": N_("declared"),
    "acknowledged": N_("acknowledged"),
    "mitigated": N_("mitigated"),
    "resolved": N_("resolved"),
}


def status_word(status: str) -> str:
    """An incident's status in the reader's language (lower case, inside a sentence)."""
    return word_for(STATUS_WORDS, status)


@dataclass(frozen=True)
class ChecklistView:
    position: int
    text: str
    done_by: str | None = None
    done_at: datetime | None = None
    step: str | None = None  # the response step's key (bot.response.steps); its label is translated at render
    due_at: datetime | None = None  # declared_at + the step's budget; None: no clock
    nudged_at: datetime | None = None  # the room was told it is overdue (⏰ while still open)
    late_seconds: int | None = None  # ticked this long after due_at

    @property
    def overdue(self) -> bool:
        return self.nudged_at is not None and self.done_at is None


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    severity: str
    severity_label: str
    status: str
    reporter_id: str
    commander_id: str | None
    channel_id: str | None
    channel_name: str | None
    declared_at: datetime
    response_due_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary_ts: str | None = None
    checklist_ts: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    checklist: tuple[ChecklistView, ...] = ()
    last_status_update: str | None = None
    # The monitoring alert that opened it (source, summary, labels, links), shown in the summary.
    alert: dict[str, Any] | None = None
    drill: bool = False  # a practice run: every medium that shows the handle shows DRILL / 演练

    @property
    def drill_mark(self) -> str:
        """DRILL (演练) for a drill, in the language in force; empty for a real incident."""
        return _(DRILL) if self.drill else ""

    # `incident_types` (SPEC §13): a private incident's title stays in its room.
    incident_type: str | None = None
    private: bool = False

    def outside(self) -> IncidentView:
        """The view for anywhere outside the room (pages, announcements, lists): a private one's title hidden."""
        if not self.private:
            return self
        from bot.i18n import _

        return replace(self, title=_("restricted incident"), last_status_update=None, alert=None)

    @property
    def severity_tag(self) -> str:
        return self.severity.upper()

    @property
    def handle(self) -> str:
        """How people refer to it: INC-42 — or "DRILL INC-42", so no page of a drill can pass for real."""
        return f"{self.drill_mark} INC-{self.id}" if self.drill else f"INC-{self.id}"

    @classmethod
    def of(cls, incident: Incident, severity_label: str, **extra: object) -> IncidentView:
        """The row's own fields; callers add roles, checklist and status only when they show them."""
        return cls(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            severity_label=severity_label,
            status=incident.status,
            reporter_id=incident.reporter_id,
            commander_id=incident.commander_id,
            channel_id=incident.channel_id,
            channel_name=incident.channel_name,
            declared_at=incident.declared_at,
            response_due_at=incident.response_due_at,
            acknowledged_at=incident.acknowledged_at,
            acknowledged_by=incident.acknowledged_by,
            mitigated_at=incident.mitigated_at,
            resolved_at=incident.resolved_at,
            summary_ts=incident.summary_ts,
            checklist_ts=incident.checklist_ts,
            drill=bool(incident.is_drill),
            incident_type=incident.incident_type,
            private=bool(incident.private),
            **extra,  # type: ignore[arg-type]
        )
