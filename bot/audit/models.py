"""The audit table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # Slack user id
    channel_id: Mapped[str | None] = mapped_column(String(32))
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))  # diag, remediate, declare, …
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. "mysql orders connections"
    outcome: Mapped[str] = mapped_column(String(16))  # ok, warn, crit, error, timeout, refused
    detail: Mapped[str] = mapped_column(Text, default="")  # masked; never a secret
    elapsed_ms: Mapped[float | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
