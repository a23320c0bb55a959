"""The response clock's timer rows: one per step nudge, one per status reminder in turn.

A row is due at `due_at`; any process's tick claims it (FOR UPDATE SKIP LOCKED, and the SQLite
write lock), marks it 'sending' under a lease, calls Slack outside the transaction, then records
'sent'. A process that dies between the claim and the record leaves a 'sending' row whose lease
runs out: the next tick anywhere takes it again, so the nudge is not lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime


class ResponseTimer(Base):
    __tablename__ = "response_timers"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "step", "seq"),
        Index("ix_response_timers_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "step" (a nudge in the room) | "status" (a reminder)
    step: Mapped[str] = mapped_column(String(16), default="")  # the step key; "" for status reminders
    seq: Mapped[int] = mapped_column(Integer, default=0)  # status reminders: 0, 1, 2… one row each
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending -> sending -> sent | failed; pending -> cancelled (done in time, resolved, superseded).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_to: Mapped[str | None] = mapped_column(String(32))  # the user DMed, or the room
    error: Mapped[str | None] = mapped_column(Text)
