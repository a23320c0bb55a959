"""An incident's complete audit record (CHECK:DOC-007) as CSV and JSON, for `/incident audit` and the CLI.

Every diagnostic and remediation run in the incident's room is an audit row (actor, time, channel,
command, outcome, findings); rows were masked when written, so an export never carries a secret.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.audit.models import AuditEntry
from bot.security.redact import mask, mask_data

COLUMNS = (
    "id",
    "time",
    "actor",
    "channel",
    "action",
    "command",
    "outcome",
    "elapsed_ms",
    "detail",
    "findings",
)


@dataclass(frozen=True)
class AuditExport:
    incident_id: int
    rows: list[dict[str, Any]]

    @property
    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({**row, "findings": json.dumps(row["findings"], ensure_ascii=False)})
        return out.getvalue()

    @property
    def json(self) -> str:
        return json.dumps({"incident": self.incident_id, "entries": self.rows}, ensure_ascii=False, indent=2)


def _findings(data: dict[str, Any]) -> list[Any]:
    found = data.get("findings")
    if isinstance(found, list):
        return found
    # A remediation records its changes and stage rather than findings.
    return [{k: v for k, v in data.items() if k in ("stage", "changes", "reason", "error")}] if data else []


def export(session: Session, incident_id: int, channel_id: str | None) -> AuditExport:
    """Every audit row of the incident (by id, or run in its room), oldest first."""
    where = AuditEntry.incident_id == incident_id
    if channel_id:
        where = or_(where, AuditEntry.channel_id == channel_id)
    entries = session.scalars(select(AuditEntry).where(where).order_by(AuditEntry.at, AuditEntry.id))
    rows = [
        {
            "id": e.id,
            "time": e.at.isoformat(),
            "actor": e.actor,
            "channel": e.channel_id or "",
            "action": e.action,
            "command": mask(e.target),
            "outcome": e.outcome,
            "elapsed_ms": round(e.elapsed_ms, 1) if e.elapsed_ms is not None else None,
            "detail": mask(e.detail or ""),  # masked on write too: a second pass costs nothing
            "findings": mask_data(_findings(dict(e.data or {}))),
        }
        for e in entries
    ]
    return AuditExport(incident_id, rows)
