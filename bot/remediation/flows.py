"""The `/remediate` flows, Slack-free: request → preview; confirm → verify → apply → record; cancel.

Every decision is written to the audit log (action "remediate") and, inside an incident channel,
to the timeline (EventKind.REMEDIATION), with outcomes:
  requested — a preview was shown with a signed Confirm button;
  confirmed / cancelled — a remediator (or the requester, for cancel) decided; the token's nonce is
      claimed in the same transaction, so a token works once whatever the number of clicks or replicas;
  ok / error — the result of applying (error: the engine failed or timed out);
  refused — a rule said no (not allowed, expired, already used, tampered, out of bounds, grow-only…),
      always with the reason.
Bad syntax is not a decision: it is answered in the ack and recorded nowhere, as for `/diag`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.audit.record import record_run
from bot.diagnostics.base import CheckFailed, CheckRefused, UsageError
from bot.diagnostics.runner import call_bounded, one_line, resolve_target
from bot.i18n import N_, _
from bot.idempotency import ProcessedKey, claim
from bot.incidents.service import by_channel
from bot.incidents.timeline import EventKind
from bot.remediation import permissions, tokens
from bot.remediation.actions import ACTIONS
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused
from bot.remediation.grammar import COMMAND, Help, Request, parse
from bot.runtime import Runtime
from bot.security.redact import mask

log = logging.getLogger(__name__)

__all__ = ["Decision", "Help", "Proposal", "Request", "Started", "cancel", "confirm", "parse", "request"]

AUDIT_ACTION = "remediate"
_ONCE = ("requested", "confirmed", "cancelled", "result")
# How a settled confirmation is named to people (the stored stage stays the English word).
_SETTLED = {"confirmed": N_("confirmed"), "cancelled": N_("cancelled")}


@dataclass
class Proposal:
    request: Request
    preview: Preview
    claims: tokens.Claims
    token: str
    incident_id: int | None


@dataclass
class Started:
    """What `request` hands back: a proposal to show, or a refusal / error to tell the requester."""

    status: Literal["proposed", "refused", "error"]
    request: Request
    message: str = ""
    code: str | None = None
    proposal: Proposal | None = None
    allowed_ids: tuple[str, ...] = ()


@dataclass
class Decision:
    """What a Confirm or Cancel click came to."""

    status: Literal["applied", "failed", "cancelled", "refused"]
    actor: str
    message: str = ""
    # For refusals: tampered, expired, not_allowed, already_used, or the action's own rule.
    code: str | None = None
    claims: tokens.Claims | None = None
    final: bool = False  # the preview message is settled: show the outcome and drop its buttons
    applied: Applied | None = None
    allowed_ids: tuple[str, ...] = ()
    elapsed_ms: float | None = None
    settled_by: tuple[str, str] | None = None  # for already_used: ("confirmed" | "cancelled", user id)

    @property
    def request(self) -> Request | None:
        return request_of(self.claims) if self.claims else None


def request_of(claims: tokens.Claims) -> Request:
    return Request(claims.action, claims.target, list(claims.args), dict(claims.options))


def command_text(req: Request) -> str:
    return f"{COMMAND} {req.text}"


# ------------------------------------------------------------------------------------ running
def _context(
    runtime: Runtime, action: Action, req: Request, expect: dict[str, Any] | None = None
) -> ActionContext:
    return ActionContext(
        policy=runtime.policy,
        target_name=req.target,
        target=resolve_target(runtime.policy, action.kind, req.target),
        args=list(req.args),
        options=dict(req.options),
        timeout=runtime.policy.diagnostics.timeout.total_seconds(),
        expect=dict(expect or {}),
    )


def _masked_changes(changes: list[Change]) -> list[Change]:
    return [Change(mask(c.what), mask(c.before), mask(c.after)) for c in changes]


def _masked_facts(facts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, mask(str(value))) for name, value in facts]


def _changes_text(changes: list[Change]) -> str:
    return "; ".join(str(c) for c in changes)


# ------------------------------------------------------------------------------------ records
def _save(
    runtime: Runtime,
    *,
    actor: str,
    outcome: str,
    req: Request | None,
    channel_id: str | None,
    text: str,
    detail: str = "",
    data: dict[str, Any] | None = None,
    elapsed_ms: float | None = None,
    nonce: str | None = None,
    stage: str | None = None,
    claim_key: str | None = None,
) -> bool:
    """One audit row and, in an incident channel, one timeline event, in one transaction.
    With `claim_key`, the key is claimed in the same transaction; False when it was already taken."""
    command = command_text(req) if req else f"{COMMAND} ?"
    payload = {"command": command, "outcome": outcome, "stage": stage or outcome, **(data or {})}
    if nonce:
        payload["nonce"] = nonce
    with runtime.session() as session:
        if claim_key is not None and not claim(session, claim_key):
            return False
        record_run(
            session,
            actor=actor,
            action=AUDIT_ACTION,
            target=req.text if req else "?",
            outcome=outcome,
            channel_id=channel_id,
            detail=mask(detail or text),
            data=payload,
            kind=EventKind.REMEDIATION,
            event_text=mask(text),
            elapsed_ms=elapsed_ms,
            # Once per token and stage; refusals are not deduplicated (each click is its own).
            dedupe_key=f"remediate:{nonce}:{stage}" if nonce and stage in _ONCE else None,
        )
    return True


def _refuse_request(runtime: Runtime, req: Request, actor: str, channel_id: str, code: str, message: str,
                    allowed: tuple[str, ...] = ()) -> Started:  # fmt: skip
    _save(
        runtime, actor=actor, outcome="refused", req=req, channel_id=channel_id,
        text=_("Refused {command}: {reason}", command=command_text(req), reason=message),
        data={"reason": code, "requester": actor},
    )  # fmt: skip
    return Started("refused", req, message, code, allowed_ids=allowed)


# ------------------------------------------------------------------------------------ request
def request(runtime: Runtime, req: Request, *, actor: str, channel_id: str) -> Started:
    """Read the current state and propose the change. UsageError for input only the engine can judge
    (a deployment that does not exist): answered, not recorded — like a typo."""
    action = ACTIONS[req.action]
    ctx = _context(runtime, action, req)
    try:
        key = tokens.key_from_settings(runtime.settings)
    except tokens.TokenKeyMissing as exc:
        return _refuse_request(runtime, req, actor, channel_id, "no_key", str(exc))
    if not permissions.remediators(runtime.policy):
        verdict = permissions.may_confirm(runtime.policy, runtime.pager, actor)
        return _refuse_request(
            runtime, req, actor, channel_id, "not_allowed", verdict.reason.capitalize() + "."
        )
    started = time.monotonic()
    try:
        if action.bounds is not None:
            action.bounds(runtime.policy, req.args, req.options)
        preview = call_bounded(action.preview, ctx, ctx.timeout, f"remediate-{req.action}")
    except Refused as exc:
        return _refuse_request(runtime, req, actor, channel_id, exc.code, str(exc))
    except CheckRefused as exc:
        return _refuse_request(runtime, req, actor, channel_id, "refused", one_line(exc))
    except UsageError:
        raise
    except Exception as exc:  # CheckFailed, TimeoutError, or a driver error: reported, never raised
        message = _failure(exc, _("reading the current state"))
        _save(
            runtime, actor=actor, outcome="error", req=req, channel_id=channel_id,
            text=_("{command} could not read the current state: {reason}", command=command_text(req), reason=message),
            elapsed_ms=_ms(started), data={"requester": actor},
        )  # fmt: skip
        return Started("error", req, message)
    preview = Preview(
        title=mask(preview.title),
        changes=_masked_changes(preview.changes),
        facts=_masked_facts(preview.facts),
        note=mask(preview.note),
        expect=preview.expect,
    )
    claims = tokens.new_claims(
        action=req.action, target=req.target, args=req.args, options=req.options, requester=actor,
        channel=channel_id, now=runtime.clock.now(), ttl=runtime.policy.remediation.confirm_ttl,
        expect=preview.expect,
    )  # fmt: skip
    token = tokens.sign(key, claims)
    changes = _changes_text(preview.changes)
    _save(
        runtime, actor=actor, outcome="requested", req=req, channel_id=channel_id,
        text=_("Requested {command}: {changes} (awaiting confirmation)", command=command_text(req), changes=changes),
        detail=f"{preview.title}: {changes}", elapsed_ms=_ms(started), nonce=claims.nonce, stage="requested",
        data={"requester": actor, "expires_at": claims.expires_at,
              "changes": [str(c) for c in preview.changes], "facts": dict(preview.facts)},
    )  # fmt: skip
    with runtime.session() as session:
        incident = by_channel(session, channel_id) if channel_id else None
        incident_id = incident.id if incident else None
    return Started("proposed", req, proposal=Proposal(req, preview, claims, token, incident_id))


def _tell_requester(runtime: Runtime, requester: str, private: str, applied: Applied) -> None:
    """A secret goes to the requester alone, by DM, once; only whether it arrived is recorded."""
    try:
        runtime.pager.direct_message(requester, private)
        applied.data["sent_privately_to"] = requester
    except Exception as exc:  # the secret is not in the exception: the port never echoes the text
        log.warning("could not DM the requester a remediation's private result: %s", type(exc).__name__)
        applied.data["sent_privately_to"] = None
        applied.note = (applied.note + " " if applied.note else "") + (
            _(
                "⚠️ The private result could not be sent to {who} by DM; nothing secret was posted here.",
                who=f"<@{requester}>",
            )
        )


def _failure(exc: BaseException, doing: str) -> str:
    if isinstance(exc, TimeoutError):
        return _("timed out {doing}: {reason}", doing=doing, reason=one_line(exc))
    if isinstance(exc, CheckFailed):
        return one_line(exc) + (f" — {mask(_(exc.fix))}" if exc.fix else "")
    log.warning("remediation failed %s", doing, exc_info=exc)
    return _("failed {doing}: {reason}", doing=doing, reason=one_line(exc))


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


# ----------------------------------------------------------------------------------- decisions
def _used_by(runtime: Runtime, claims: tokens.Claims) -> tuple[str, str] | None:
    """Who settled this token, from the audit log: ("confirmed", "U…") (best effort)."""
    with runtime.session() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == AUDIT_ACTION, AuditEntry.outcome.in_(("confirmed", "cancelled")))
            .order_by(AuditEntry.id.desc())
            .limit(200)
        )
        for row in rows:
            if (row.data or {}).get("nonce") == claims.nonce:
                return row.outcome, row.actor
    return None


def _is_used(runtime: Runtime, claims: tokens.Claims) -> bool:
    with runtime.session() as session:
        return session.get(ProcessedKey, _claim_key(claims)) is not None


def _claim_key(claims: tokens.Claims) -> str:
    return f"remediate:{claims.nonce}"


def _refuse(runtime: Runtime, actor: str, channel_id: str, code: str, message: str,
            claims: tokens.Claims | None = None, *, final: bool = False,
            allowed: tuple[str, ...] = ()) -> Decision:  # fmt: skip
    req = request_of(claims) if claims else None
    what = command_text(req) if req else _("a remediation")
    _save(
        runtime, actor=actor, outcome="refused", req=req, channel_id=channel_id,
        text=_("Refused {command}: {reason}", command=what, reason=message), nonce=claims.nonce if claims else None,
        data={"reason": code, **({"requester": claims.requester} if claims else {})},
    )  # fmt: skip
    return Decision("refused", actor, message, code, claims, final=final, allowed_ids=allowed)


def _verified(runtime: Runtime, token: str, actor: str, channel_id: str) -> tokens.Claims | Decision:
    try:
        key = tokens.key_from_settings(runtime.settings)
    except tokens.TokenKeyMissing as exc:
        return _refuse(runtime, actor, channel_id, "no_key", str(exc))
    try:
        claims = tokens.verify(key, token, runtime.clock.now())
    except tokens.TokenError as exc:
        if exc.code == "expired" and exc.claims is not None:
            if _is_used(runtime, exc.claims):
                return _already_used(runtime, actor, channel_id, exc.claims)
            return _refuse(runtime, actor, channel_id, "expired", str(exc), exc.claims, final=True)
        return _refuse(runtime, actor, channel_id, "tampered", str(exc))
    if claims.channel != channel_id:
        return _refuse(
            runtime, actor, channel_id, "tampered",
            _("This confirmation belongs to another channel; nothing was run."), claims,
        )  # fmt: skip
    if claims.action not in ACTIONS:
        return _refuse(
            runtime,
            actor,
            channel_id,
            "tampered",
            _("Unknown remediation `{action}`.", action=claims.action),
            claims,
        )
    return claims


def _already_used(runtime: Runtime, actor: str, channel_id: str, claims: tokens.Claims) -> Decision:
    by = _used_by(runtime, claims)
    if by:
        message = _(
            "This confirmation was already used ({outcome} by {who}); it works once.",
            outcome=_(_SETTLED.get(by[0], by[0])),
            who=by[1],
        )
    else:
        message = _("This confirmation was already used; it works once.")
    decision = _refuse(runtime, actor, channel_id, "already_used", message, claims)
    decision.settled_by = by
    return decision


def _settle(
    runtime: Runtime,
    token: str,
    actor: str,
    channel_id: str,
    stage: str,
    verdict_of: Callable[[tokens.Claims], permissions.Verdict],
) -> tuple[tokens.Claims, permissions.Verdict] | Decision:
    """The gate both buttons share: verify the token, refuse a second use or a person without the
    right, and record the decision — claiming the nonce in the same transaction, so it works once."""
    claims = _verified(runtime, token, actor, channel_id)
    if isinstance(claims, Decision):
        return claims
    if _is_used(runtime, claims):
        return _already_used(runtime, actor, channel_id, claims)
    verdict = verdict_of(claims)
    if not verdict.allowed:
        if stage == "cancelled":
            message = _("You may not cancel this: {reason}.", reason=verdict.reason)
        else:
            message = _("You may not confirm this: {reason}.", reason=verdict.reason)
        return _refuse(
            runtime, actor, channel_id, "not_allowed", message, claims,
            allowed=verdict.allowed_ids,
        )  # fmt: skip
    req = request_of(claims)
    data: dict[str, Any] = {"requester": claims.requester}
    if stage == "confirmed":
        data["via"] = verdict.via
    settled = _save(
        runtime, actor=actor, outcome=stage, req=req, channel_id=channel_id,
        text=_("{stage} {command}", stage=_(_SETTLED.get(stage, stage)).capitalize(), command=command_text(req)),
        nonce=claims.nonce, stage=stage,
        claim_key=_claim_key(claims), data=data,
    )  # fmt: skip
    if not settled:
        return _already_used(runtime, actor, channel_id, claims)
    return claims, verdict


def cancel(runtime: Runtime, token: str, *, actor: str, channel_id: str) -> Decision:
    gate = _settle(
        runtime, token, actor, channel_id, "cancelled",
        lambda claims: permissions.may_cancel(runtime.policy, runtime.pager, actor, claims.requester),
    )  # fmt: skip
    if isinstance(gate, Decision):
        return gate
    claims, _gate = gate
    return Decision("cancelled", actor, _("Cancelled; nothing was changed."), None, claims, final=True)


def confirm(
    runtime: Runtime,
    token: str,
    *,
    actor: str,
    channel_id: str,
    on_confirmed: Callable[[tokens.Claims], None] | None = None,
) -> Decision:
    """Verify, check the role, claim the nonce (with the "confirmed" record), apply, record the result."""
    gate = _settle(
        runtime, token, actor, channel_id, "confirmed",
        lambda _claims: permissions.may_confirm(runtime.policy, runtime.pager, actor),
    )  # fmt: skip
    if isinstance(gate, Decision):
        return gate
    claims, _gate = gate
    req = request_of(claims)
    if on_confirmed is not None:
        try:
            on_confirmed(claims)
        except Exception:
            log.warning("on_confirmed hook failed", exc_info=True)
    return _apply(runtime, req, claims, actor, channel_id)


def _apply(runtime: Runtime, req: Request, claims: tokens.Claims, actor: str, channel_id: str) -> Decision:
    action = ACTIONS[req.action]
    started = time.monotonic()
    try:
        ctx = _context(runtime, action, req, claims.expect)
        if action.bounds is not None:  # the policy may have been tightened since the preview
            action.bounds(runtime.policy, req.args, req.options)
        applied = call_bounded(
            action.apply, ctx, ctx.timeout * 2 + action.apply_grace, f"remediate-{req.action}"
        )
    except (Refused, CheckRefused, UsageError) as exc:
        code = exc.code if isinstance(exc, Refused) else "refused"
        message = one_line(exc)
        _save(
            runtime, actor=actor, outcome="refused", req=req, channel_id=channel_id,
            text=_("{command} → refused: {reason}", command=command_text(req), reason=message),
            elapsed_ms=_ms(started), nonce=claims.nonce,
            stage="result", data={"reason": code, "requester": claims.requester},
        )  # fmt: skip
        return Decision("refused", actor, message, code, claims, final=True, elapsed_ms=_ms(started))
    except Exception as exc:
        message = _failure(exc, _("applying the change"))
        if isinstance(exc, TimeoutError):
            message += " — " + _("the change may still happen; check with `/diag`")
        _save(
            runtime, actor=actor, outcome="error", req=req, channel_id=channel_id,
            text=_("{command} → error: {reason}", command=command_text(req), reason=message),
            elapsed_ms=_ms(started), nonce=claims.nonce,
            stage="result", data={"requester": claims.requester, "error": message},
        )  # fmt: skip
        return Decision("failed", actor, message, "error", claims, final=True, elapsed_ms=_ms(started))
    private, applied.private = applied.private, ""
    if private:
        _tell_requester(runtime, claims.requester, private, applied)
    applied = Applied(
        summary=mask(applied.summary),
        changes=_masked_changes(applied.changes),
        facts=_masked_facts(applied.facts),
        note=mask(applied.note),
        data=applied.data,
        follow_up=applied.follow_up,
    )
    elapsed = _ms(started)
    changes = _changes_text(applied.changes)
    _save(
        runtime, actor=actor, outcome="ok", req=req, channel_id=channel_id,
        text=_("{command} → ok: {summary}", command=command_text(req), summary=applied.summary)
        + (f" ({changes})" if changes else ""),
        elapsed_ms=elapsed, nonce=claims.nonce, stage="result",
        data={"requester": claims.requester, "result": applied.data,
              "changes": [str(c) for c in applied.changes],
              "findings": [{"level": "ok", "message": str(c), "fix": None} for c in applied.changes]},
    )  # fmt: skip
    return Decision(
        "applied", actor, applied.summary, None, claims, final=True, applied=applied, elapsed_ms=elapsed
    )
