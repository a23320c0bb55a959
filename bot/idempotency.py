"""Exactly-once for inbound requests: a key (Slack event_id, trigger_id, view id) is claimed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class ProcessedKey(Base):
    __tablename__ = "processed_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def claim(session: Session, key: str) -> bool:
    """True the first time `key` is seen (in this transaction's commit), False for any repeat."""
    try:
        with session.begin_nested():
            session.add(ProcessedKey(key=key))
            session.flush()
    except IntegrityError:
        return False
    return True
