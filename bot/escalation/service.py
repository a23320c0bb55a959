"""Escalation entry points called by the incident flows (start on declare, stop on ack/resolve).

PLACEHOLDER until the escalation issue lands: start() and stop() keep the ladder row; the tick
that pages lives in bot.escalation.engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.escalation.models import EscalationState
from bot.incidents.models import Incident


def start(session: Session, incident: Incident, now: datetime) -> None:
    """Put the incident on its ladder: tier 1 is due now."""
    state = session.get(EscalationState, incident.id)
    if state is None:
        session.add(EscalationState(incident_id=incident.id, tier=-1, loop=0, next_at=now, active=True))
        session.flush()


def stop(session: Session, incident_id: int, reason: str, now: datetime) -> None:
    """Stop the ladder in this transaction: once it commits, no page may leave."""
    state = session.get(EscalationState, incident_id, with_for_update=True)
    if state is not None and state.active:
        state.active = False
        state.stopped_reason = reason
        state.next_at = None
        state.updated_at = now
