"""AlertGroupView: an immutable snapshot of an alert group for the ports and renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import N_, word_for

if TYPE_CHECKING:
    from bot.alerts.models import AlertGroup

# An alert group's state and status as `/incident alerts` names them (stored as English keys).
STATE_NAMES = {
    "unmatched": N_("unmatched"),
    "ignored": N_("ignored"),
    "proposed": N_("proposed"),
    "proposing": N_("proposing"),
    "dismissed": N_("dismissed"),
    "declared": N_("declared"),
    "declaring": N_("declaring"),
    "stormed": N_("stormed"),
    "firing": N_("firing"),
    "resolved": N_("resolved"),
}


def alert_state_name(key: str) -> str:
    return word_for(STATE_NAMES, key)


@dataclass(frozen=True)
class AlertGroupView:
    id: int
    source: str
    title: str
    state: str
    status: str
    severity: str | None
    mode: str | None
    detail: dict[str, Any]
    firing: int
    total: int
    repeats: int
    activated_at: datetime | None
    incident_id: int | None = None
    incident_channel: str | None = None
    previous_incident_id: int | None = None
    decided_by: str | None = None
    confirm_at: datetime | None = None
    members: tuple[tuple[str, str, str], ...] = field(
        default_factory=tuple
    )  # storms: (title, source, status)

    @classmethod
    def of(cls, group: AlertGroup, **extra: Any) -> AlertGroupView:
        alerts = group.alerts or {}
        return cls(
            id=group.id,
            source=group.source,
            title=group.title,
            state=group.state,
            status=group.status,
            severity=group.severity,
            mode=group.mode,
            detail=dict(group.detail or {}),
            firing=sum(1 for a in alerts.values() if a.get("status") == "firing"),
            total=len(alerts),
            repeats=group.repeats,
            activated_at=group.activated_at,
            incident_id=group.incident_id,
            previous_incident_id=group.previous_incident_id,
            decided_by=group.decided_by,
            confirm_at=group.confirm_at,
            **extra,
        )
