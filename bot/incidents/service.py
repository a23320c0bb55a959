"""Incident lifecycle rules on the database: declare, ack, mitigate, resolve, reopen, severity, roles.

Pure domain: every function takes a session and a time, changes rows, writes the timeline,
and raises `IncidentError` with a message for the user when the change is not allowed.
Callers (flows) commit and then tell the chat platform.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from bot.config.policy import SEVERITY_KEYS, Policy
from bot.i18n import N_, _, default_language, use_language
from bot.incidents.checklist import RESPONSE_STEPS
from bot.incidents.models import ChecklistItem, Incident, RoleAssignment, TimelineEvent, snapshot_key
from bot.incidents.timeline import EventKind, add_event, said, who_ref
from bot.incidents.views import ChecklistView, IncidentView
from bot.response import timers as response_timers
from bot.security.redact import mask
from bot.security.types import label_of
from bot.text import clean

TITLE_MAX = 150  # a Slack header block holds 150 characters
OPEN_STATUSES = ("declared", "acknowledged", "mitigated")


class IncidentError(Exception):
    """A change that is not allowed; the message tells the user what to do instead."""


@dataclass(frozen=True)
class Change:
    incident_id: int
    event_id: int | None
    msgid: str  # what the room is told
    values: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        with use_language(default_language()):  # the room's language, not the actor's
            return _(self.msgid, **self.values)


def validate_severity(text: str) -> str:
    key = text.strip().lower()
    if key not in SEVERITY_KEYS:
        raise IncidentError(
            _(
                "Unknown severity `{text}`. Use one of p0, p1, p2, p3 — e.g. `/incident p1 Checkout down`.",
                text=text,
            )
        )
    return key


def sanitize(text: str) -> str:
    """What is stored of anything a person typed: cleaned of control characters, NUL, terminal
    escapes and bidi overrides (they break storage and disguise text), and with credentials masked
    (a DSN pasted into a note must not reach the timeline, the summary or the postmortem)."""
    return mask(clean(text))


def validate_title(title: str) -> str:
    title = " ".join(sanitize(title).split())
    if not title:
        raise IncidentError(_("An incident needs a title: `/incident p1 Checkout returns 502`."))
    if len(title) > TITLE_MAX:
        raise IncidentError(
            _(
                "That title is {n} characters; keep it under {max} (a Slack header's limit). "
                "Put the details in `/incident note <text>` once the channel is open.",
                n=len(title),
                max=TITLE_MAX,
            )
        )
    return title


def slugify(title: str, limit: int) -> str:
    # A password typed into the title must not end up in the channel name either.
    ascii_text = unicodedata.normalize("NFKD", sanitize(title)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not re.search(r"[a-z]", slug):
        return ""
    return slug[:limit].rstrip("-")


def channel_name(
    incident_id: int, declared_at: datetime, title: str, suffix: int = 0, drill: bool = False
) -> str:
    """inc-<yyyymmdd>-<n>-<slug> (drill-… for a drill), lower-case ASCII, at most 80 characters,
    with -2, -3… on name_taken."""
    base = f"{'drill' if drill else 'inc'}-{declared_at:%Y%m%d}-{incident_id}"
    tail = f"-{suffix}" if suffix else ""
    slug = slugify(title, max(0, 80 - len(base) - len(tail) - 1))
    return f"{base}-{slug}{tail}" if slug else f"{base}{tail}"


def declare(
    session: Session,
    policy: Policy,
    *,
    severity: str,
    title: str,
    reporter_id: str,
    origin_channel_id: str | None,
    now: datetime,
    request_key: str | None = None,
    drill: bool = False,
) -> tuple[Incident, bool]:
    """Create the incident row, its first event and checklist. Returns (incident, created)."""
    severity = validate_severity(severity)
    title = validate_title(title)
    if request_key:
        existing = session.scalar(select(Incident).where(Incident.request_key == request_key))
        if existing is not None:
            return existing, False
    sev = policy.severity(severity)
    snapshot = policy.model_dump(mode="json")
    incident = Incident(
        title=title,
        severity=severity,
        status="declared",
        reporter_id=reporter_id,
        origin_channel_id=origin_channel_id,
        request_key=request_key,
        declared_at=now,
        response_due_at=now + sev.response,
        policy_snapshot=snapshot,
        policy_key=snapshot_key(snapshot),
        setup_errors=[],
        is_drill=drill,
    )
    session.add(incident)
    session.flush()
    declared = N_("Drill declared {severity}: {title}") if drill else N_("Declared {severity}: {title}")
    text, data = said(declared, severity=severity.upper(), title=title)
    add_event(session, incident.id, EventKind.DECLARED, reporter_id, text, data=data, at=now)
    for position, (step, label) in enumerate(RESPONSE_STEPS):
        session.add(ChecklistItem(incident_id=incident.id, position=position, step=step, text=label))
    session.flush()
    return incident, True


def get(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id)


def by_channel(session: Session, channel_id: str) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.channel_id == channel_id))


def require_in_channel(session: Session, channel_id: str, command: str) -> Incident:
    incident = by_channel(session, channel_id)
    if incident is None:
        raise IncidentError(
            _(
                "`/incident {command}` works inside an incident channel (inc-…). "
                "Run it there, or use `/incident list` to find the channel.",
                command=command,
            )
        )
    return incident


def open_incidents(session: Session, drills: bool = False) -> list[Incident]:
    """Open incidents — or, with `drills`, open drills: the two are never listed together."""
    query = (
        select(Incident)
        .where(Incident.status.in_(OPEN_STATUSES), Incident.is_drill.is_(drills))
        .order_by(Incident.severity, Incident.id)
    )
    return list(session.scalars(query))


def _lock(session: Session, incident: Incident) -> Incident:
    """Re-read the row FOR UPDATE (PostgreSQL) so two replicas cannot both apply one transition."""
    locked = session.scalar(
        select(Incident)
        .where(Incident.id == incident.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def acknowledge(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    incident = _lock(session, incident)
    if incident.status == "resolved":
        raise IncidentError(
            _("{ref} is resolved. `/incident reopen` first if it is burning again.", ref=f"INC-{incident.id}")
        )
    if incident.acknowledged_at is not None:
        raise IncidentError(
            _(
                "{ref} was already acknowledged by {who} at {when} UTC. Nothing changed.",
                ref=f"INC-{incident.id}",
                who=f"<@{incident.acknowledged_by}>",
                when=f"{incident.acknowledged_at:%H:%M}",
            )
        )
    incident.acknowledged_at = now
    incident.acknowledged_by = actor
    if incident.status == "declared":
        incident.status = "acknowledged"
    if incident.commander_id is None:
        _assign(session, incident, "commander", actor, actor, now)
    event = add_event(
        session, incident.id, EventKind.ACKNOWLEDGED, actor, N_("Acknowledged; escalation stopped"), at=now
    )
    return Change(
        incident.id, event.id if event else None, N_("{who} acknowledged {ref}."), who_ref(actor, incident.id)
    )


def mitigate(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    incident = _lock(session, incident)
    if incident.status == "resolved":
        raise IncidentError(_("{ref} is resolved. `/incident reopen` first.", ref=f"INC-{incident.id}"))
    if incident.status == "mitigated":
        raise IncidentError(
            _(
                "{ref} is already mitigated (since {when} UTC).",
                ref=f"INC-{incident.id}",
                when=f"{incident.mitigated_at:%H:%M}",
            )
        )
    if incident.acknowledged_at is None:
        # Someone mitigating is on it: that is an acknowledgement, and escalation must stop.
        incident.acknowledged_at = now
        incident.acknowledged_by = actor
    incident.status = "mitigated"
    incident.mitigated_at = now
    event = add_event(session, incident.id, EventKind.MITIGATED, actor, N_("Impact mitigated"), at=now)
    return Change(
        incident.id,
        event.id if event else None,
        N_("{who} marked {ref} mitigated."),
        who_ref(actor, incident.id),
    )


def resolve(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    incident = _lock(session, incident)
    if incident.status == "resolved":
        raise IncidentError(
            _(
                "{ref} was already resolved at {when} UTC. `/incident reopen` reopens it.",
                ref=f"INC-{incident.id}",
                when=f"{incident.resolved_at:%Y-%m-%d %H:%M}",
            )
        )
    incident.status = "resolved"
    incident.resolved_at = now
    event = add_event(session, incident.id, EventKind.RESOLVED, actor, N_("Resolved"), at=now)
    return Change(
        incident.id, event.id if event else None, N_("{who} resolved {ref}."), who_ref(actor, incident.id)
    )


def reopen(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    incident = _lock(session, incident)
    if incident.status != "resolved":
        raise IncidentError(
            _(
                "{ref} is {status}, not resolved; there is nothing to reopen.",
                ref=f"INC-{incident.id}",
                status=_(incident.status),
            )
        )
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
        incident.acknowledged_by = actor
    incident.status = "acknowledged"
    incident.resolved_at = None
    event = add_event(session, incident.id, EventKind.REOPENED, actor, N_("Reopened"), at=now)
    return Change(
        incident.id, event.id if event else None, N_("{who} reopened {ref}."), who_ref(actor, incident.id)
    )


def set_severity(
    session: Session, policy: Policy, incident: Incident, severity: str, actor: str, now: datetime
) -> Change:
    severity = validate_severity(severity)
    incident = _lock(session, incident)
    if incident.status == "resolved":
        raise IncidentError(
            _("{ref} is resolved; `/incident reopen` before changing its severity.", ref=f"INC-{incident.id}")
        )
    if incident.severity == severity:
        raise IncidentError(
            _(
                "{ref} is already {severity}. Nothing changed.",
                ref=f"INC-{incident.id}",
                severity=severity.upper(),
            )
        )
    old = incident.severity
    text, data = said(N_("Severity {old} → {new}"), old=old.upper(), new=severity.upper())
    incident.severity = severity
    incident.response_due_at = incident.declared_at + policy.severity(severity).response
    event = add_event(
        session,
        incident.id,
        EventKind.SEVERITY,
        actor,
        text,
        data={"from": old, "to": severity, **data},
        at=now,
    )
    return Change(
        incident.id,
        event.id if event else None,
        N_("{who} changed severity {old} → {new}."),
        {"who": f"<@{actor}>", "old": old.upper(), "new": severity.upper()},
    )


def _assign(session: Session, incident: Incident, role: str, user_id: str, actor: str, now: datetime) -> bool:
    current = session.scalar(
        select(RoleAssignment).where(RoleAssignment.incident_id == incident.id, RoleAssignment.role == role)
    )
    if current is not None and current.user_id == user_id:
        return False
    if current is None:
        session.add(
            RoleAssignment(
                incident_id=incident.id, role=role, user_id=user_id, assigned_by=actor, assigned_at=now
            )
        )
    else:
        current.user_id = user_id
        current.assigned_by = actor
        current.assigned_at = now
    if role == "commander":
        incident.commander_id = user_id
    add_event(
        session,
        incident.id,
        EventKind.ROLE,
        actor,
        f"{role} → <@{user_id}>",
        data={"role": role, "user": user_id},
        at=now,
    )
    return True


def assign_role(
    session: Session, policy: Policy, incident: Incident, role: str, user_id: str, actor: str, now: datetime
) -> Change:
    role = role.lower()
    if role not in policy.incident_roles:
        raise IncidentError(
            _("Unknown role `{role}`. Roles: {roles}.", role=role, roles=", ".join(policy.incident_roles))
        )
    incident = _lock(session, incident)
    if not _assign(session, incident, role, user_id, actor, now):
        raise IncidentError(
            _(
                "{who} is already {role} of {ref}. Nothing changed.",
                who=f"<@{user_id}>",
                role=role,
                ref=f"INC-{incident.id}",
            )
        )
    return Change(
        incident.id,
        None,
        N_("{actor} made {who} {role}."),
        {"actor": f"<@{actor}>", "who": f"<@{user_id}>", "role": role},
    )


def add_note(
    session: Session,
    incident: Incident,
    kind: EventKind,
    text: str,
    actor: str,
    now: datetime,
    *,
    link: str | None = None,
    dedupe_key: str | None = None,
) -> TimelineEvent | None:
    text = sanitize(text).strip()
    if not text:
        raise IncidentError(_("Say what to record: `/incident note Rolled back to v1.4.2`."))
    if len(text) > 3000:
        raise IncidentError(_("That is {n} characters; keep a timeline entry under 3,000.", n=len(text)))
    return add_event(session, incident.id, kind, actor, text, link=link, dedupe_key=dedupe_key, at=now)


def tick_checklist(session: Session, incident: Incident, position: int, actor: str, now: datetime) -> bool:
    """Toggle a checklist item; returns True when it is now done."""
    item = session.scalar(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == incident.id, ChecklistItem.position == position
        )
    )
    if item is None:
        raise IncidentError(_("That checklist item does not exist."))
    if item.done_at is None:
        item.done_at, item.done_by = now, actor
        text, data = said(N_("Done: {item}"), ("item",), item=item.text)
        add_event(session, incident.id, EventKind.CHECKLIST, actor, text, data=data, at=now)
        response_timers.step_ticked(session, incident, item, True, now)  # late? the nudge not needed?
        return True
    item.done_at, item.done_by = None, None
    text, data = said(N_("Reopened: {item}"), ("item",), item=item.text)
    add_event(session, incident.id, EventKind.CHECKLIST, actor, text, data=data, at=now)
    response_timers.step_ticked(session, incident, item, False, now)
    return False


def open_by_severity(conn: Connection | Session) -> dict[str, int]:
    """Unresolved incidents per current severity (every severity key present, 0 if none)."""
    counts = dict.fromkeys(SEVERITY_KEYS, 0)
    rows = conn.execute(
        select(Incident.severity, func.count())
        .where(Incident.status != "resolved", Incident.is_drill.is_(False))  # drills never count
        .group_by(Incident.severity)
    )
    for severity, count in rows:
        counts[str(severity)] = int(count)
    return counts


def view(session: Session, incident: Incident, policy: Policy | None = None) -> IncidentView:
    roles = {
        row.role: row.user_id
        for row in session.scalars(select(RoleAssignment).where(RoleAssignment.incident_id == incident.id))
    }
    items = session.scalars(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident.id).order_by(ChecklistItem.position)
    )
    last_status = session.scalar(
        select(TimelineEvent.text)
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == EventKind.STATUS_UPDATE.value)
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(1)
    )
    alert = session.scalar(
        select(TimelineEvent.data)
        .where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.kind == EventKind.ALERT.value,
            TimelineEvent.dedupe_key.like("alert:%"),
        )
        .order_by(TimelineEvent.id)
        .limit(1)
    )
    policy = policy or Policy.model_validate(incident.policy_snapshot or {})
    return IncidentView.of(
        incident,
        label_of(policy, incident),  # the severity's label, and the incident type's
        roles=roles,
        checklist=tuple(
            ChecklistView(
                i.position, i.text, i.done_by, i.done_at, i.step, i.due_at, i.nudged_at, i.late_seconds
            )
            for i in items
        ),
        last_status_update=last_status,
        alert=alert or None,
    )
