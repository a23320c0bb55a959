"""The scheduled report posts: one row per period, the timer and the exactly-once record in one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime


class ReportPost(Base):
    """`weekly:<monday>` is unique: however many replicas tick, a week is posted once."""

    __tablename__ = "report_posts"
    __table_args__ = (Index("ix_report_posts_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), unique=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending -> sending (claimed; Slack is called with no transaction open) -> posted, or back to
    # pending with a later next_attempt_at, or failed after MAX_ATTEMPTS; a 'sending' claim older
    # than the lease is taken over (its process died). skipped: a weekly slot never posted.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
