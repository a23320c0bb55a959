"""Incident types (SPEC §13): the desk a type pages, its label, its checklist, and its private room.

A type's desk is applied through the policy snapshot: every severity of a typed incident's
snapshot names the type's escalation policy, so the ladder, a later `sev` change, `/incident
oncall` in the room and the set-up's invitations all follow the desk without knowing about types.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.config.policy import SEVERITY_KEYS, Policy, SeverityOverride
from bot.config.security import IncidentType, desk_of
from bot.i18n import N_
from bot.incidents.models import ChecklistItem, Incident

# The guide's key-leak procedure (密钥泄露): rotate at once, then assess, audit, notify. Each item carries
# the response step whose clock (`response_steps` budgets) it runs on: rotating IS stopping the loss.
SECURITY_STEPS: tuple[tuple[str, str], ...] = (
    (
        "stop_loss",
        N_(
            "Rotate the leaked key or secret at once — `/remediate k8s rotate-secret` or `aws rotate-key` · 立即轮换"
        ),
    ),
    ("root_cause", N_("Assess the impact — what the key could reach, since when · 评估影响")),
    (
        "verify",
        N_(
            "Audit access — who used it, from where (`/diag logs … suspicious`, `/incident audit`) · 审计访问"
        ),
    ),
    ("review", N_("Notify the stakeholders — security, owners, users where required · 通知相关方")),
)
SECURITY_TEXTS = frozenset(text for _step, text in SECURITY_STEPS)


def find(policy: Policy, name: str) -> IncidentType | None:
    return policy.incident_types.get(name.lower())


def names(policy: Policy) -> list[str]:
    return sorted(policy.incident_types)


def policy_for(policy: Policy, type_name: str | None) -> Policy:
    """The policy to snapshot for an incident of this type: every severity on the type's desk."""
    kind = find(policy, type_name) if type_name else None
    if kind is None:
        return policy
    desk = desk_of(type_name or "", kind, set(policy.escalation_policies))
    if desk is None:
        return policy
    severities = {
        key: (policy.severities.get(key) or SeverityOverride()).model_copy(update={"escalation": desk})  # type: ignore[call-overload]
        for key in SEVERITY_KEYS
    }
    return policy.model_copy(update={"severities": severities})


def checklist_for(kind: IncidentType | None) -> tuple[tuple[str, str], ...] | None:
    """The checklist of a type as (response step, text), or None for the response steps."""
    if kind is not None and kind.checklist == "security":
        return SECURITY_STEPS
    return None


def apply(session: Session, incident: Incident, policy: Policy, type_name: str | None) -> None:
    """Mark a just-declared incident with its type (in the declaration's transaction)."""
    kind = find(policy, type_name) if type_name else None
    if kind is None:
        return
    incident.incident_type = type_name
    incident.private = kind.private
    steps = checklist_for(kind)
    if steps is not None:
        session.execute(delete(ChecklistItem).where(ChecklistItem.incident_id == incident.id))
        for position, (step, text) in enumerate(steps):
            session.add(ChecklistItem(incident_id=incident.id, position=position, step=step, text=text))
    session.flush()


def label_of(policy: Policy, incident: Incident) -> str:
    """The label shown beside the severity: the severity's, and the type's after it (严重 major · 安全事件)."""
    label = policy.severity(incident.severity).label
    kind = policy.incident_types.get(incident.incident_type or "")
    return f"{label} · {kind.label}" if kind is not None else label
