"""Repairs what a crash or an outage left, at start and every minute (SPEC §2: never half-made).

- an open, unacknowledged incident with no escalation state (declared before set-up was durable,
  or by a process that died in between) is put on its ladder: tier 1 due now;
- an open incident with no set-up rows and no room, summary or checklist gets the missing steps;
- set-up claims whose lease ran out (a dead process) go back to pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from bot.db.locks import write_lock
from bot.escalation import service as escalation
from bot.escalation.models import EscalationState
from bot.i18n import N_
from bot.incidents import setup
from bot.incidents.models import Incident, SetupStep
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, said
from bot.runtime import Runtime

log = logging.getLogger(__name__)

TICK_SECONDS = 60.0
BATCH = 200


@dataclass
class Repairs:
    ladders: int = 0
    setups: int = 0
    stale_claims: int = 0


def tick(runtime: Runtime) -> Repairs:
    repairs = Repairs()
    if runtime.stopping.is_set():
        return repairs
    now = runtime.clock.now()
    with runtime.session() as session:
        write_lock(session)
        no_ladder = select(EscalationState.incident_id).where(EscalationState.incident_id == Incident.id)
        for incident in session.scalars(
            select(Incident)
            .where(Incident.status == "declared", Incident.acknowledged_at.is_(None), ~no_ladder.exists())
            .order_by(Incident.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ):
            escalation.start(session, incident, now)
            text, spoken = said(
                N_(
                    "Escalation started late: the declaration had been interrupted before its ladder was written"
                )
            )
            add_event(
                session,
                incident.id,
                EventKind.ESCALATION,
                BOT_ACTOR,
                text,
                data=spoken,
                dedupe_key="reconcile:ladder",
                at=now,
            )
            repairs.ladders += 1
        no_steps = select(SetupStep.id).where(SetupStep.incident_id == Incident.id)
        for incident in session.scalars(
            select(Incident)
            .where(
                Incident.status != "resolved",
                ~no_steps.exists(),
                (
                    Incident.channel_id.is_(None)
                    | Incident.summary_ts.is_(None)
                    | Incident.checklist_ts.is_(None)
                ),
            )
            .order_by(Incident.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ):
            if incident.channel_id is None:
                steps = setup.steps_for(escalation.snapshot_policy(incident))
            else:
                steps = [
                    s
                    for s, ts in (("summary", incident.summary_ts), ("checklist", incident.checklist_ts))
                    if not ts
                ]
            setup.plan(session, incident.id, steps, now)
            repairs.setups += 1
        stale = session.execute(
            update(SetupStep)
            .where(SetupStep.status == "running", SetupStep.claimed_at < now - setup.LEASE)
            .values(status="pending", claimed_by=None, claimed_at=None, next_attempt_at=now)
        )
        repairs.stale_claims = int(stale.rowcount or 0)
    if repairs.ladders or repairs.setups or repairs.stale_claims:
        log.warning("reconciliation repaired %s", repairs)
    return repairs
