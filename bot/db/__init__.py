"""Data layer: the declarative base, the engine (time limits on every call, see guard) and sessions, migrations."""

from bot.db.base import Base, UTCDateTime, utcnow
from bot.db.engine import create_db_engine, make_session_factory, migrate, session_scope

__all__ = [
    "Base",
    "UTCDateTime",
    "create_db_engine",
    "make_session_factory",
    "migrate",
    "session_scope",
    "utcnow",
]
