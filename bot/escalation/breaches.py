"""Missed response targets: an incident still unacknowledged at `response_due_at` gets one notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.config.durations import format_duration
from bot.db.locks import write_lock
from bot.escalation import messages, passes, service
from bot.escalation.outbox import insert_events, insert_rows
from bot.escalation.passes import PassReport, event, light_view, notice_row
from bot.i18n import N_
from bot.incidents.models import Incident
from bot.incidents.timeline import EventKind, said

if TYPE_CHECKING:
    from bot.runtime import Runtime


def notice_response_breaches(runtime: Runtime) -> PassReport:
    report = PassReport()
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)
        incidents = session.scalars(
            select(Incident)
            .where(
                Incident.status == "declared",
                Incident.acknowledged_at.is_(None),
                Incident.response_breach_at.is_(None),
                Incident.response_due_at <= now,
            )
            .order_by(Incident.response_due_at)
            .limit(passes.BATCH)
            .with_for_update(skip_locked=True, key_share=True)
            .execution_options(populate_existing=True)
        ).all()
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for incident in incidents:
            policy = service.snapshot_policy(incident)
            target = incident.response_due_at - incident.declared_at
            incident.response_breach_at = now
            # Stored in English with what renders it in the reader's language (bot.incidents.timeline.said).
            said_text, spec = said(
                N_("Response target missed: still unacknowledged {target} after declare"),
                target=format_duration(target),
            )
            events.append(
                event(
                    incident.id,
                    EventKind.RESPONSE_BREACH,
                    said_text,
                    {
                        "response_due_at": incident.response_due_at.isoformat(),
                        "severity": incident.severity,
                        **spec,
                    },
                    "response_breach",
                    incident.response_due_at,  # when it was missed, even if noticed late
                )
            )
            text = messages.breach_text(light_view(incident, policy), target)
            # due when it was missed, even if noticed late; sent now
            rows.append(
                notice_row(incident.id, "notice:response_breach", text, incident.response_due_at, now)
            )
            report.breaches += 1
        insert_rows(session, rows)
        insert_events(session, events)
    return report
