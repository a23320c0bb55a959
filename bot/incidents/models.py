"""Incident tables: the incident, its timeline, its roles and its response checklist."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, UTCDateTime, utcnow


def snapshot_key(snapshot: dict[str, Any]) -> str:
    """The value of `Incident.policy_key` for a policy snapshot: equal snapshots, equal keys."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_is_drill_declared", "is_drill", "declared_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16), default="declared", index=True)
    reporter_id: Mapped[str] = mapped_column(String(32))
    commander_id: Mapped[str | None] = mapped_column(String(32))
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    checklist_ts: Mapped[str | None] = mapped_column(String(32))
    # The request that declared it (trigger_id, or a hash for the console): a retry finds this row.
    request_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The policy as it was at declare time (SPEC §4: editing the YAML does not change a running ladder).
    policy_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # sha256 of the snapshot's canonical JSON: incidents declared under one YAML share it, so a pass
    # over a thousand of them reads one snapshot, not a thousand (bot.escalation.service).
    policy_key: Mapped[str | None] = mapped_column(String(64))
    setup_errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the declarer was told about set-up: None, "late" (some step is late), "done" (told it landed).
    setup_notice: Mapped[str | None] = mapped_column(String(8))
    # A practice run (`/incident drill`): the real response, kept out of metrics, reports and lists.
    is_drill: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # `incident_types` (SPEC §13): the type declared with; a private one keeps its title in its room.
    incident_type: Mapped[str | None] = mapped_column(String(32))
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident", order_by="TimelineEvent.at, TimelineEvent.id", lazy="raise_on_sql"
    )

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        UniqueConstraint("incident_id", "dedupe_key"),
        Index("ix_timeline_incident_at", "incident_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # Slack user id, or "warroom" for the bot itself
    kind: Mapped[str] = mapped_column(String(32))  # see bot.incidents.timeline.EventKind
    text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Slack delivers some things twice (retries, pin + :pushpin:); this key makes the second a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))

    incident: Mapped[Incident] = relationship(back_populates="events", lazy="raise_on_sql")


class RoleAssignment(Base):
    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("incident_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))  # the English label, for rows of unknown step
    done_by: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The response step (bot.response.steps); its label is translated at render.
    step: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # declared_at + budget; None: no clock
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the room was told it is overdue
    late_seconds: Mapped[int | None] = mapped_column(Integer)  # ticked this long after due_at


class SetupStep(Base):
    """One step of opening the war room (room, invite, summary, checklist, announce), done exactly once.

    Written in the declaration's transaction; the declaring process runs them at once, and any
    process's tick finishes what is left (claimed FOR UPDATE SKIP LOCKED, under a renewed lease).
    """

    __tablename__ = "setup_steps"
    __table_args__ = (
        UniqueConstraint("incident_id", "step"),
        Index("ix_setup_steps_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    # pending -> running -> done | failed (a permanent error); a transient failure goes back to pending.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    # Step memory across attempts, e.g. the channel names already tried (only those may be adopted).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
