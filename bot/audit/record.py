"""Recording a run — a diagnostic or a remediation decision — where people will look for it.

Every run, anywhere, is written to the audit log (who, where, what, when, outcome), as the guide
demands a complete audit record; a run inside an incident channel also goes on that incident's
timeline, so the postmortem can list what was checked and changed. One function does both, in the
caller's transaction, so `/diag` and `/remediate` record alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import metrics
from bot.audit.service import record
from bot.diagnostics import flows
from bot.diagnostics.base import Finding
from bot.incidents.models import Incident
from bot.incidents.service import by_channel
from bot.incidents.timeline import EventKind, add_event
from bot.runtime import Runtime


def record_run(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    channel_id: str | None,
    detail: str,
    data: dict[str, Any],
    kind: EventKind,
    event_text: str,
    event_data: dict[str, Any] | None = None,
    elapsed_ms: float | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """One audit row and, in an incident channel, one timeline event; the incident's id, if any."""
    incident = by_channel(session, channel_id) if channel_id else None
    incident_id = incident.id if incident is not None else None
    record(
        session,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        channel_id=channel_id,
        incident_id=incident_id,
        detail=detail,
        elapsed_ms=elapsed_ms,
        data=data,
    )
    if incident_id is not None:
        add_event(
            session,
            incident_id,
            kind,
            actor,
            event_text,
            data=data if event_data is None else event_data,
            dedupe_key=dedupe_key,
        )
    return incident_id


def _finding_data(finding: Finding) -> dict[str, Any]:
    return {"level": str(finding.level), "message": finding.message, "fix": finding.fix}


def record_diagnostic(
    runtime: Runtime, result: flows.Result, *, actor: str, channel_id: str | None
) -> int | None:
    """A `/diag` run: all findings in the audit log, the key ones on the timeline."""
    data = {
        "command": result.command,
        "outcome": str(result.outcome),
        "findings": [_finding_data(f) for f in result.findings],
    }
    detail = "\n".join(
        f"{f.level.icon} {f.message}" + (f" — {f.fix}" if f.fix else "") for f in result.findings
    )
    with runtime.session() as session:
        incident_id = record_run(
            session,
            actor=actor,
            action="diag",
            target=result.command,
            outcome=str(result.outcome),
            channel_id=channel_id,
            detail=detail,
            data=data,
            kind=EventKind.DIAGNOSTIC,
            event_text=flows.summary(result),
            event_data={**data, "findings": [_finding_data(f) for f in flows.key_findings(result.findings)]},
            elapsed_ms=result.elapsed_ms,
        )
        incident = session.get(Incident, incident_id) if incident_id is not None else None
        drill = incident is not None and incident.is_drill
    if not drill:  # counted once the run is saved; a drill's runs never count
        metrics.observe_diag(getattr(result, "adapter", "triage"), result.outcome)
    return incident_id
