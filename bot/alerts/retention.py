"""Retention of the alert inbox: applied `alert_events` older than `alerts.retention` are deleted.

Monitoring resends a firing alert every few minutes for as long as it fires, so the inbox grows
without bound while groups and incidents do not. Only events already applied go, in batches (a
short lock each, any database), oldest first; the groups, their incidents and timelines stay. Two
replicas deleting at once delete each row once: the DELETE is by id and idempotent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from bot.alerts.models import AlertEvent

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 3600.0
BATCH = 2000
MAX_BATCHES = 50  # at most 100,000 rows a run; the next run takes the rest


def tick(runtime: Runtime) -> int:
    """Delete applied events past retention; returns how many went."""
    cutoff = runtime.clock.now() - runtime.policy.alerts.retention
    deleted = 0
    for _batch in range(MAX_BATCHES):
        with runtime.session() as session:
            ids = list(
                session.scalars(
                    select(AlertEvent.id)
                    .where(AlertEvent.processed_at.is_not(None), AlertEvent.received_at < cutoff)
                    .order_by(AlertEvent.id)
                    .limit(BATCH)
                )
            )
            if not ids:
                break
            session.execute(delete(AlertEvent).where(AlertEvent.id.in_(ids)))
            session.commit()
        deleted += len(ids)
        if len(ids) < BATCH:
            break
    if deleted:
        log.info("alert events past retention deleted", extra={"deleted": deleted})
    return deleted
