"""What a postmortem draft is made of, read from the database into plain immutable values.

`collect()` is the only place that queries; the renderer gets a `DraftContent` and never a session,
so rendering 10,000 events is a loop over tuples (see bench/postmortem_render.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.policy import Policy
from bot.incidents import service as incidents
from bot.incidents.models import Incident, RoleAssignment, TimelineEvent
from bot.incidents.timeline import BOT_ACTOR, event_text
from bot.incidents.views import IncidentView
from bot.postmortem import figures as figures_mod
from bot.postmortem.models import ActionItem, ReviewReminder

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
LIFECYCLE_KINDS = ("acknowledged", "mitigated", "resolved", "reopened")
PAGING_KINDS = ("page", "page_failed", "escalation", "acknowledged", "response_breach")


@dataclass(frozen=True)
class FindingRow:
    level: str  # ok | warn | crit
    message: str
    fix: str | None = None


@dataclass(frozen=True)
class EventRow:
    at: datetime
    actor: str
    kind: str
    text: str
    link: str | None = None
    command: str | None = None  # diagnostics and remediations
    outcome: str | None = None
    findings: tuple[FindingRow, ...] = ()
    data: dict[str, Any] | None = None  # what Warroom's own rows need to be rendered in any language

    def said(self) -> str:
        """The text in the language in force: Warroom's rows translated, what people typed as typed."""
        return event_text(self.kind, self.text, self.data)


@dataclass(frozen=True)
class ActionRow:
    number: int
    text: str
    owner_id: str | None
    created_by: str
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class Participant:
    user_id: str
    roles: tuple[str, ...]  # role names, plus "reporter", "paged" and "action owner"
    entries: int  # timeline entries they wrote


@dataclass(frozen=True)
class StepRow:
    """One response step against its budget (SPEC §11), for the postmortem's response-clock table."""

    step: str  # the key: confirm, start, stop_loss, root_cause, verify, review
    budget: timedelta | None  # from the declaration; None: no clock
    done_at: datetime | None
    took: timedelta | None  # declaration -> ticked
    verdict: str  # met | missed | pending | n/a
    over: timedelta | None  # how far past the budget (done late, or still open past it)


def step_rows(view: IncidentView, now: datetime) -> tuple[StepRow, ...]:
    rows = []
    for item in view.checklist:
        if not item.step:
            continue
        budget = item.due_at - view.declared_at if item.due_at else None
        took = item.done_at - view.declared_at if item.done_at else None
        end = item.done_at or now
        if item.due_at is None:
            verdict, over = "n/a", None
        elif end > item.due_at:
            verdict, over = "missed", end - item.due_at
        else:
            verdict, over = ("met" if item.done_at else "pending"), None
        rows.append(StepRow(item.step, budget, item.done_at, took, verdict, over))
    return tuple(rows)


@dataclass(frozen=True)
class DraftContent:
    incident: IncidentView
    target: timedelta  # the severity's response target
    metrics: figures_mod.Metrics
    events: tuple[EventRow, ...]
    actions: tuple[ActionRow, ...]
    participants: tuple[Participant, ...]
    review_due: datetime | None
    review_done: datetime | None
    generated_at: datetime
    steps: tuple[StepRow, ...] = ()  # the response steps against their budgets

    def of_kind(self, *kinds: str) -> list[EventRow]:
        return [event for event in self.events if event.kind in kinds]

    @property
    def status_updates(self) -> list[EventRow]:
        return self.of_kind("status_update")

    @property
    def diagnostics(self) -> list[EventRow]:
        return self.of_kind("diagnostic")

    @property
    def remediations(self) -> list[EventRow]:
        return self.of_kind("remediation")

    @property
    def paging(self) -> list[EventRow]:
        return self.of_kind(*PAGING_KINDS)


def policy_of(incident: Incident, fallback: Policy | None = None) -> Policy:
    """The policy the incident was declared under (SPEC §4); its postmortem follows the same one."""
    try:
        return Policy.model_validate(incident.policy_snapshot or {})
    except ValueError:
        # A snapshot written by an older version that today's schema rejects: better a draft in the
        # current policy's language than no draft at all.
        return fallback or Policy()


def _findings(data: dict[str, Any]) -> tuple[FindingRow, ...]:
    rows = []
    for item in data.get("findings") or ():
        if isinstance(item, dict) and item.get("message"):
            rows.append(
                FindingRow(str(item.get("level") or "ok"), str(item["message"]), item.get("fix") or None)
            )
    return tuple(rows)


def _event_row(event: Any) -> EventRow:
    """From a timeline row (at, actor, kind, text, link, data)."""
    data = event.data or {}
    return EventRow(
        at=event.at,
        actor=event.actor,
        kind=event.kind,
        text=event.text or "",
        link=event.link,
        command=str(data["command"]) if data.get("command") else None,
        outcome=str(data["outcome"]) if data.get("outcome") else None,
        findings=_findings(data) if event.kind in ("diagnostic", "remediation") else (),
        data=data or None,
    )


def _paged_user(data: dict[str, Any]) -> str | None:
    for key in ("user", "user_id", "target"):
        value = data.get(key)
        if isinstance(value, str) and USER_ID.match(value):
            return value
    return None


def participants(
    view: IncidentView,
    events: list[Any],  # rows with actor, kind, data
    roles_now: list[RoleAssignment],
    actions: list[ActionItem],
) -> tuple[Participant, ...]:
    """Everyone who took part, in order of first appearance, with what they did."""
    order: dict[str, int] = {}
    roles: dict[str, list[str]] = {}
    entries: dict[str, int] = {}

    def seen(user: str | None, role: str | None = None) -> None:
        if not user or user == BOT_ACTOR:
            return
        order.setdefault(user, len(order))
        held = roles.setdefault(user, [])
        if role and role not in held:
            held.append(role)

    seen(view.reporter_id, "reporter")
    for event in events:
        data = event.data or {}
        if event.actor != BOT_ACTOR:
            seen(event.actor)
            entries[event.actor] = entries.get(event.actor, 0) + 1
        if event.kind == "role" and isinstance(data.get("user"), str):
            seen(data["user"], str(data.get("role") or "role"))
        elif event.kind in ("page", "page_failed"):
            seen(_paged_user(data), "paged")
    for assignment in roles_now:  # roles given before the timeline recorded them
        seen(assignment.user_id, assignment.role)
    for item in actions:
        seen(item.owner_id, "action owner")
    return tuple(Participant(user, tuple(roles[user]), entries.get(user, 0)) for user in order)


def collect(
    session: Session, incident: Incident, now: datetime, policy: Policy | None = None
) -> DraftContent:
    policy = policy or policy_of(incident)
    view = incidents.view(session, incident, policy)
    # Plain rows, not ORM objects: building 10,000 identity-mapped entities costs more than the render.
    events: list[Any] = list(
        session.execute(
            select(
                TimelineEvent.at,
                TimelineEvent.actor,
                TimelineEvent.kind,
                TimelineEvent.text,
                TimelineEvent.link,
                TimelineEvent.data,
            )
            .where(TimelineEvent.incident_id == incident.id)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )
    roles_now = list(session.scalars(select(RoleAssignment).where(RoleAssignment.incident_id == incident.id)))
    actions = list(
        session.scalars(
            select(ActionItem).where(ActionItem.incident_id == incident.id).order_by(ActionItem.id)
        )
    )
    reminder = session.get(ReviewReminder, incident.id)
    # The deadline the incident actually had (set_severity moves it); the policy only if it is odd.
    target = incident.response_due_at - incident.declared_at
    if target <= timedelta(0):
        target = policy.severity(incident.severity).response
    figures = figures_mod.compute(
        declared_at=incident.declared_at,
        status=incident.status,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        target=target,
        moments=[figures_mod.Moment(e.at, e.kind, e.actor) for e in events if e.kind in LIFECYCLE_KINDS],
        now=now,
    )
    return DraftContent(
        incident=view,
        target=target,
        metrics=figures,
        events=tuple(_event_row(e) for e in events),
        actions=tuple(
            ActionRow(n, a.text, a.owner_id, a.created_by, a.created_at, a.done_at)
            for n, a in enumerate(actions, start=1)
        ),
        participants=participants(view, events, roles_now, actions),
        review_due=reminder.due_at if reminder else None,
        review_done=reminder.done_at if reminder else None,
        generated_at=now,
        steps=step_rows(view, now),
    )
