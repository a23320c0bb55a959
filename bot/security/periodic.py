"""The contact check (weekly) and the policy review reminder (quarterly) as rows on the database timer.

Each job is one `periodic_jobs` row with its due time. A replica runs a job only after moving its
`due_at` forward with a compare-and-set UPDATE (… WHERE due_at = <the value it read>), so each due
time is claimed by exactly one replica, whatever their number; a job that fell due while every
replica was down runs at the next tick. The first tick writes the rows (due one period later) and,
for the review, a first `policy_reviews` row as the baseline "what changed" is counted from.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.config.policy import Policy
from bot.i18n import _, use_language
from bot.incidents.models import Incident
from bot.ports import ChatError
from bot.security import freshness
from bot.security.models import PeriodicJob, PolicyReview

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0
CONTACTS, REVIEW = "contacts", "policy_review"


def policy_hash(policy: Policy) -> str:
    """What a review looked at: the policy as loaded (a YAML edit that changes nothing changes nothing)."""
    text = json.dumps(policy.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _every(policy: Policy, job: str) -> timedelta:
    return policy.reviews.contacts_every if job == CONTACTS else policy.reviews.policy_every


def _plan(runtime: Runtime, now: datetime) -> None:
    """Write the job rows (and the review baseline) once; every replica may try, one row results."""
    policy = runtime.policy
    with runtime.session() as session:
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        rows = [dict(job=job, due_at=now + _every(policy, job), data={}) for job in (CONTACTS, REVIEW)]
        session.execute(
            module.insert(PeriodicJob.__table__).on_conflict_do_nothing(index_elements=["job"]), rows
        )
        if session.scalar(select(func.count()).select_from(PolicyReview)) == 0:
            session.add(PolicyReview(at=now, policy_hash=policy_hash(policy), summary={"baseline": True}))


def _claim(runtime: Runtime, job: str, now: datetime) -> bool:
    """Move the job's due time forward if it is due; True for the one replica whose update landed."""
    with runtime.session() as session:
        due = session.scalar(select(PeriodicJob.due_at).where(PeriodicJob.job == job))
        if due is None or due > now:
            return False
        moved = session.execute(
            update(PeriodicJob)
            .where(PeriodicJob.job == job, PeriodicJob.due_at == due)
            .values(due_at=now + _every(runtime.policy, job), last_run_at=now, last_run_by=runtime.worker_id)
        )
        return bool(moved.rowcount)


def _post(runtime: Runtime, text: str) -> bool:
    channel = runtime.policy.announce_channel
    if not channel:
        log.warning("no announce_channel: %s", text.splitlines()[0])
        return False
    try:
        runtime.warroom.notify(channel, text)
        return True
    except ChatError as exc:
        log.warning("could not post to announce_channel: %s", exc.code)
        return False


def run_contacts(runtime: Runtime) -> freshness.Report:
    with use_language(runtime.policy.language):
        report = freshness.check(runtime.policy, cast(freshness.DirectoryPort, runtime.pager))
        _post(runtime, freshness.report_text(report))
    return report


def review_text(runtime: Runtime, now: datetime) -> str:
    """The reminder, with what changed since the last review; stores this review's row."""
    policy = runtime.policy
    current = policy_hash(policy)
    with runtime.session() as session:
        last = session.scalar(
            select(PolicyReview).order_by(PolicyReview.at.desc(), PolicyReview.id.desc()).limit(1)
        )
        since = last.at if last else now - policy.reviews.policy_every
        counted = select(func.count()).select_from(Incident).where(Incident.declared_at >= since)
        incidents = session.scalar(counted.where(Incident.is_drill.is_(False))) or 0
        drills = session.scalar(counted.where(Incident.is_drill.is_(True))) or 0
        changed = last is None or last.policy_hash != current
        session.add(PolicyReview(at=now, policy_hash=current,
                                 summary={"incidents": incidents, "drills": drills, "policy_changed": changed}))  # fmt: skip
    edits = _("the policy file changed") if changed else _("the policy file did not change")
    return _(
        "🗓️ Time to review the incident policy and the runbook (CHECK:DOC-001). Since the last review "
        "({since:%Y-%m-%d}): {incidents} incident(s), {drills} drill(s); {edits}. Check the desks and "
        "rotations, the external contacts, the escalation timeouts and the runbook's steps against what "
        "those incidents taught.",
        since=since, incidents=incidents, drills=drills, edits=edits,
    )  # fmt: skip


def tick(runtime: Runtime) -> None:
    now = runtime.clock.now()
    _plan(runtime, now)
    if _claim(runtime, CONTACTS, now):
        run_contacts(runtime)
    if _claim(runtime, REVIEW, now):
        with use_language(runtime.policy.language):
            _post(runtime, review_text(runtime, now))
