"""Escalation tables: each incident's position in its ladder (the timer is a row) and the page outbox.

`escalation_state` is the timer: `next_at` is when the next rung falls due, and any process's tick
may take it (FOR UPDATE SKIP LOCKED). `page_outbox` holds every message the engine owes somebody,
under a unique key written before the outside world is called, so a page is never sent twice.

Keys of `page_outbox` (incident_id, loop, tier, target):
- escalation pages: loop >= 0, tier >= 0 (index into the ladder), target a Slack user id;
- pages by hand (`/incident page`): tier = -1, loop = a per-incident sequence number (1, 2, …);
- channel notices (escalation exhausted, response target missed): kind "notice", tier = -2,
  loop = 0, target "notice:<what>".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

MANUAL_TIER = -1
NOTICE_TIER = -2


class EscalationState(Base):
    """One row per incident: where it stands in its ladder and when the next step falls due."""

    __tablename__ = "escalation_state"
    __table_args__ = (Index("ix_escalation_due", "active", "next_at"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    # Which ladder of the snapshot: "default" or an `escalation_policies` name, fixed at declare time.
    policy: Mapped[str] = mapped_column(String(64), default="default")
    tier: Mapped[int] = mapped_column(Integer, default=-1)  # index of the tier paged last (-1: none yet)
    loop: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the next tier is due
    active: Mapped[bool] = mapped_column(default=True)
    stopped_reason: Mapped[str | None] = mapped_column(String(32))  # acknowledged, resolved, exhausted
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PageOutbox(Base):
    """A page is written here, under its unique key, before Slack (or SNS/SES/webhook) is called."""

    __tablename__ = "page_outbox"
    __table_args__ = (
        UniqueConstraint("incident_id", "loop", "tier", "target"),
        Index("ix_page_outbox_pending", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="page")  # page | notice
    loop: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)  # -1 by hand, -2 channel notices
    target: Mapped[str] = mapped_column(String(64))  # a Slack user id (groups/rotations resolved first)
    tier_name: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str | None] = mapped_column(Text)  # the text of a channel notice
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending -> sending -> sent | failed | cancelled; a failed attempt goes back to pending with backoff.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who took the row to send it, and when: a 'sending' row whose process died is taken again later.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the Slack DM (or notice) went out
    requested_by: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # channel -> result
