"""Every table of every domain in one import, so Base.metadata is complete (Alembic and tests use it)."""

from bot.alerts.models import AlertEvent, AlertGroup
from bot.audit.models import AuditEntry
from bot.escalation.models import EscalationState, PageOutbox
from bot.idempotency import ProcessedKey
from bot.incidents.models import ChecklistItem, Incident, RoleAssignment, TimelineEvent
from bot.postmortem.models import ActionItem, PostmortemDraft, ReviewReminder
from bot.reports.models import ReportPost
from bot.response.models import ResponseTimer
from bot.security.models import PeriodicJob, PolicyReview

__all__ = [
    "ActionItem",
    "AlertEvent",
    "AlertGroup",
    "AuditEntry",
    "ChecklistItem",
    "EscalationState",
    "Incident",
    "PageOutbox",
    "PeriodicJob",
    "PolicyReview",
    "PostmortemDraft",
    "ProcessedKey",
    "ReportPost",
    "ResponseTimer",
    "ReviewReminder",
    "RoleAssignment",
    "TimelineEvent",
]
