"""Tables of the security and contact-book work: periodic jobs as rows, and the policy reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class PeriodicJob(Base):
    """A periodic job (contact freshness, policy review reminder) as a row with its due time.

    A process runs the job only after it moved `due_at` forward with a compare-and-set update, so
    however many replicas tick, each due time is claimed exactly once; a job due while every
    replica was down runs at the next tick.
    """

    __tablename__ = "periodic_jobs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_by: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PolicyReview(Base):
    """One review reminder: the policy's hash then, so the next one can say whether it changed."""

    __tablename__ = "policy_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    policy_hash: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
