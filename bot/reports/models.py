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
    # pending -> posted | failed (after MAX_ATTEMPTS); a failed attempt stays pending, later.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
