"""Writing audit entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.audit.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    channel_id: str | None = None,
    incident_id: int | None = None,
    detail: str = "",
    elapsed_ms: float | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        target=target[:200],
        outcome=outcome,
        channel_id=channel_id,
        incident_id=incident_id,
        detail=detail[:10000],
        elapsed_ms=elapsed_ms,
        data=data or {},
    )
    session.add(entry)
    session.flush()
    return entry
