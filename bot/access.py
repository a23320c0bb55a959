"""Who may run `/diag` and `/remediate`, from which channels and how often (SPEC §5): policy, not trust.

`diagnostics.allow_users` (user ids and user groups, resolved through the chat platform at each
command, so membership changes apply at once) and `diagnostics.allow_channels` (plus every incident
war room, whose ids nobody can list in advance) are empty by default: everyone, everywhere, as before.
The per-person rate limit is counted in the database, so replicas agree: each command claims one of
`per_minute` numbered slots of the current minute (a unique key, not check-then-insert), and a
burst of concurrent commands can never take more slots than there are.
A refusal says why and what to do, changes nothing, and is written to the audit log (a rate-limit
refusal once per person and minute, so a flood cannot fill the log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.audit.service import record
from bot.config.policy import Policy
from bot.i18n import _
from bot.idempotency import ProcessedKey, claim
from bot.incidents.service import by_channel
from bot.runtime import Runtime
from bot.security.redact import mask

log = logging.getLogger(__name__)

_PREFIX = "rate:"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    code: str = ""  # not_allowed_user, not_allowed_channel, rate_limited
    reason: str = ""  # what the person reads: why not, and what to do instead


ALLOWED = Verdict(True)


def _member(runtime: Runtime, group: str, user_id: str) -> bool:
    try:
        return user_id in runtime.pager.group_members(group)
    except Exception as exc:  # a group we cannot read grants nothing; the refusal stays the same
        log.warning("could not read members of user group %s: %s", group, exc)
        return False


def user_allowed(runtime: Runtime, user_id: str) -> bool:
    allowed = runtime.policy.diagnostics.allow_users
    if not allowed or user_id in allowed:
        return True
    return any(_member(runtime, group, user_id) for group in allowed if group.startswith("S"))


def _channel_allowed(policy: Policy, session: Session, channel_id: str) -> bool:
    allowed = policy.diagnostics.allow_channels
    if not allowed or channel_id in allowed:
        return True
    return bool(channel_id) and by_channel(session, channel_id) is not None


def _window(now: datetime) -> tuple[int, int]:
    """(minute number, seconds left in it)."""
    stamp = int(now.timestamp())
    return stamp // 60, 60 - stamp % 60


def _take_slot(session: Session, user_id: str, limit: int, now: datetime) -> bool:
    window, _left = _window(now)
    prefix = f"{_PREFIX}{user_id}:{window}:"
    taken = session.scalar(select(func.count()).where(ProcessedKey.key.startswith(prefix, autoescape=True)))
    for slot in range(int(taken or 0), limit):
        if _claim_at(session, f"{prefix}{slot}", now):
            if slot == 0:  # once per person and minute: forget the minutes that can no longer count
                _prune(session, now)
            return True
    return False


def _claim_at(session: Session, key: str, now: datetime) -> bool:
    if not claim(session, key):
        return False
    row = session.get(ProcessedKey, key)
    if row is not None:
        row.at = now  # the policy's clock, so pruning agrees with the windows
    return True


def _prune(session: Session, now: datetime) -> None:
    session.execute(
        delete(ProcessedKey).where(
            ProcessedKey.key.startswith(_PREFIX), ProcessedKey.at < now - timedelta(minutes=2)
        )
    )


def admit(runtime: Runtime, user_id: str, channel_id: str, command: str) -> Verdict:
    """May `user_id` run `command` ("/diag mysql orders") in `channel_id` now? Takes a rate slot if so."""
    policy = runtime.policy
    name = command.split()[0] if command else "/diag"
    if not user_allowed(runtime, user_id):
        verdict = Verdict(
            False,
            "not_allowed_user",
            _(
                "🔒 You may not run `{name}`: it is limited to the people and user groups in "
                "`diagnostics.allow_users` of the YAML policy. Ask one of them (the on-call engineer, say) "
                "to run it for you, or an admin to add you.",
                name=name,
            ),
        )
        _refuse(runtime, user_id, channel_id, command, verdict)
        return verdict
    now = runtime.clock.now()
    limit = policy.diagnostics.rate_limit.per_minute
    with runtime.session() as session:
        if not _channel_allowed(policy, session, channel_id):
            channels = ", ".join(f"<#{c}>" for c in policy.diagnostics.allow_channels)
            verdict = Verdict(
                False,
                "not_allowed_channel",
                _(
                    "🔒 `{name}` does not run in this channel. Run it in an incident channel or in {channels} "
                    "(`diagnostics.allow_channels` in the YAML policy).",
                    name=name,
                    channels=channels,
                ),
            )
        elif _take_slot(session, user_id, limit, now):
            return ALLOWED
        else:
            window, left = _window(now)
            verdict = Verdict(
                False,
                "rate_limited",
                _(
                    "⏳ Slow down: you have run {limit} `/diag` and `/remediate` commands this minute "
                    "(`diagnostics.rate_limit.per_minute` is {limit}). Try again in {left} s.",
                    limit=limit,
                    left=left,
                ),
            )
            if not _claim_at(session, f"{_PREFIX}{user_id}:{window}:refused", now):
                return verdict  # already on record for this minute
    _refuse(runtime, user_id, channel_id, command, verdict)
    return verdict


def _refuse(runtime: Runtime, user_id: str, channel_id: str, command: str, verdict: Verdict) -> None:
    action = "remediate" if command.startswith("/remediate") else "diag"
    with runtime.session() as session:
        incident = by_channel(session, channel_id) if channel_id else None
        record(
            session,
            actor=user_id,
            action=action,
            target=mask(command.removeprefix(f"/{action}").strip()),
            outcome="refused",
            channel_id=channel_id or None,
            incident_id=incident.id if incident is not None else None,
            detail=verdict.reason,
            data={"reason": verdict.code},
        )
