"""What every escalation pass shares: the batch size, the pass report, timeline rows, the write lock."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config.policy import Policy
from bot.escalation.models import NOTICE_TIER
from bot.incidents.models import Incident
from bot.incidents.timeline import BOT_ACTOR, EventKind
from bot.incidents.views import IncidentView

BATCH = 250  # read as `passes.BATCH` at call time, so a test can make batches small
# Pages claimed at once: four rounds of the 32 senders. Small enough that replicas share a burst (each
# claims a slice while the other sends), large enough that a claim's round trip is paid per 128 pages.
SEND_BATCH = 128  # as BATCH, read at call time
WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassReport:
    advanced: int = 0
    exhausted: int = 0
    breaches: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    paged: int = 0  # DMs sent whose row is finished (invites, SMS, record) later in the pass

    def __iadd__(self, other: PassReport) -> PassReport:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def work(self) -> int:
        return sum(vars(self).values())


def notice_row(incident_id: int, target: str, text: str, due_at: datetime, now: datetime) -> dict[str, Any]:
    """An outbox row that tells the war room something (a missed target, an exhausted ladder)."""
    return dict(
        incident_id=incident_id,
        kind="notice",
        loop=0,
        tier=NOTICE_TIER,
        target=target,
        text=text,
        due_at=due_at,
        next_attempt_at=now,
    )


def event(
    incident_id: int, kind: EventKind, text: str, data: dict[str, Any], key: str, at: datetime
) -> dict[str, Any]:
    return dict(
        incident_id=incident_id, kind=str(kind), actor=BOT_ACTOR, text=text, data=data, dedupe_key=key, at=at
    )


def light_view(incident: Incident, policy: Policy) -> IncidentView:
    """An IncidentView without the roles/checklist queries a page does not need (cheap for 1,000)."""
    return IncidentView.of(incident, policy.severity(incident.severity).label)
