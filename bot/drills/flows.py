"""Drill flows: the resolve hook that posts the drill report in the room, once per resolve."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.drills import report
from bot.i18n import use_language
from bot.incidents.models import Incident
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event
from bot.ports import ChatError

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def on_resolved(runtime: Runtime, incident_id: int, actor: str) -> None:
    """Hook after a resolve commits: a drill gets its report in the room (a real incident nothing)."""
    try:
        with runtime.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or not incident.is_drill or incident.status != "resolved":
                return
            assert incident.resolved_at is not None
            # Keyed by the resolve time: a replayed hook posts nothing twice, a later resolve (after a
            # reopen) gets its own report.
            key = f"drill-report:{incident.resolved_at.isoformat()}"
            with use_language(runtime.policy.language):
                text = report.render(report.build(session, incident, runtime.policy))
            recorded = add_event(
                session,
                incident_id,
                EventKind.NOTE,
                BOT_ACTOR,
                "Drill report posted",
                dedupe_key=key,
                at=runtime.clock.now(),
            )
            channel_id = incident.channel_id
        if recorded is None or channel_id is None:
            return
        runtime.warroom.notify(channel_id, text)
    except ChatError as exc:
        log.warning("drill report not posted: %s", exc.code, extra={"incident_id": incident_id})
    except Exception:
        # The resolve has committed and must still be answered; the report is a by-product.
        log.exception("drill report failed", extra={"incident_id": incident_id})
