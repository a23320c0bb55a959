"""Escalation tables: each incident's position in its ladder (the timer is a row) and the page outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class EscalationState(Base):
    """One row per incident: where it stands in its ladder and when the next step falls due."""

    __tablename__ = "escalation_state"
    __table_args__ = (Index("ix_escalation_due", "active", "next_at"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    tier: Mapped[int] = mapped_column(Integer, default=0)  # index of the tier paged last
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
    loop: Mapped[int] = mapped_column(Integer)  # -1 for pages sent by hand
    tier: Mapped[int] = mapped_column(Integer)  # -1 for pages sent by hand
    target: Mapped[str] = mapped_column(String(64))  # a Slack user id (groups/rotations resolved first)
    tier_name: Mapped[str] = mapped_column(String(64), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed, cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # channel -> result
