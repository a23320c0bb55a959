"""Alert tables: what each sender told us (`alert_events`) and one row per alert group (`alert_groups`).

`alert_events` is the inbox: a row is written and committed before the sender gets its 2xx, under a
unique `dedupe_key`, so a retried or duplicated delivery is a no-op and a crash after the commit
loses nothing (`processed_at` is null until the tick has applied it to its group).

`alert_groups` is the state of one group (Alertmanager groupKey, Grafana groupKey, CloudWatch
AlarmArn, events-v2 dedup_key): its route decision, its current incident and what Slack still owes
it. `dirty_at` marks a group whose Slack side (room, proposal, notices) is behind its state; the
tick reconciles it, so a crash between the commit and a Slack call only delays the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class AlertEvent(Base):
    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    # sha256 of (source, group, fingerprint, status, the alert's own times): the same payload twice is one row.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    group_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # trigger | resolve | acknowledge
    alert: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # normalized, masked, clipped
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertGroup(Base):
    __tablename__ = "alert_groups"
    __table_args__ = (
        UniqueConstraint("source", "group_hash"),
        Index("ix_alert_groups_dirty", "dirty_at"),
        Index("ix_alert_groups_confirm", "confirm_at"),
        Index("ix_alert_groups_source_activated", "source", "activated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    group_hash: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="firing")  # firing | resolved
    # new | declaring | declared | proposing | proposed | dismissed | ignored | unmatched | stormed
    state: Mapped[str] = mapped_column(String(16), default="new")
    route: Mapped[int | None] = mapped_column(Integer)  # index into alerts.routes; None: unmatched
    severity: Mapped[str | None] = mapped_column(String(4))
    mode: Mapped[str | None] = mapped_column(String(16))  # auto | propose | ignore
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # summary, labels, links (masked)
    # fingerprint -> {"status": firing|resolved, "event": id of the latest event applied}
    alerts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    activation: Mapped[int] = mapped_column(Integer, default=0)  # +1 each time it fires anew
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeats: Mapped[int] = mapped_column(Integer, default=0)  # folded repeats in this activation
    told_repeats: Mapped[int] = mapped_column(Integer, default=0)  # how many the room has been told
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    previous_incident_id: Mapped[int | None] = mapped_column(Integer)
    is_storm: Mapped[bool] = mapped_column(Boolean, default=False)
    storm_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    proposal_channel: Mapped[str | None] = mapped_column(String(32))
    proposal_ts: Mapped[str | None] = mapped_column(String(32))
    notice_ts: Mapped[str | None] = mapped_column(String(32))  # the room message carrying the fold count
    resolution_told: Mapped[bool] = mapped_column(Boolean, default=False)
    confirm_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # propose: declare anyway at
    dirty_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # Slack is behind the state since
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on each change; sync compares it
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a process is syncing it
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
