"""Delivering one claimed outbox row on each of its channels: Slack DM or notice, invite, SMS, e-mail, webhook.

Nothing here touches a transaction; `save_progress` queues the write (bot.escalation.progress) that keeps a
delivered DM from being sent again if this process dies before the batch is recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.escalation import messages, progress
from bot.escalation.models import MANUAL_TIER
from bot.escalation.passes import WORKER
from bot.i18n import N_, word_for
from bot.incidents.views import IncidentView
from bot.ports import ChatError, DeliveryError, PageRequest

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Claim:
    id: int
    kind: str
    incident_id: int
    loop: int
    tier: int
    target: str
    tier_name: str
    text: str | None
    requested_by: str | None
    due_at: datetime
    attempt: int
    deliveries: dict[str, Any]
    view: IncidentView
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "manual" if self.tier == MANUAL_TIER else "escalation"

    @property
    def key(self) -> str:
        return f"{self.incident_id}:{self.loop}:{self.tier}:{self.target}"


def _ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


def _failed(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def attempt_call(fn: Any) -> dict[str, Any]:
    try:
        return fn()
    except ChatError as exc:
        return _failed(exc.code)
    except DeliveryError as exc:
        return _failed(exc.code)
    except Exception as exc:  # a port that broke in an unexpected way: the page is still retried
        log.warning("delivery raised %s", type(exc).__name__, exc_info=True)
        return _failed(type(exc).__name__)


def deliver(runtime: Runtime, claim: Claim, first: bool) -> Claim:
    """The channels of this row not yet delivered; results in claim.results. Never raises.

    `first`: the page itself (the Slack DM, or a channel notice); otherwise the rest (the channel
    invite, SMS, e-mail, webhook). A batch sends all its DMs before any of the rest, so in a burst
    the thousandth DM does not wait behind 999 invites.
    """
    done = {name for name, result in claim.deliveries.items() if result.get("ok")}

    def attempt(channel: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        started = time.monotonic()
        result = attempt_call(call)
        claim.results[channel] = {
            **result,
            "at": runtime.clock.now().isoformat(),
            "ms": round((time.monotonic() - started) * 1000),  # how long the provider took
            "attempt": claim.attempt,
            "by": WORKER,
        }
        return claim.results[channel]

    channel_id = claim.view.channel_id
    if claim.kind == "notice":
        if not first:
            return claim
        if channel_id is None:
            attempt("slack", lambda: _failed("no_channel"))
        elif "slack" not in done:
            attempt("slack", lambda: _ok(ts=runtime.warroom.notify(channel_id, claim.text or "").ts))
        return claim

    user = claim.target
    if first:
        if "slack" not in done:
            request = PageRequest(user, claim.view, claim.tier_name, claim.reason, claim.requested_by)
            if attempt("slack", lambda: _ok(ts=runtime.pager.page(request).ts))["ok"]:
                save_progress(runtime, claim)
        return claim
    if "invite" not in done and channel_id:
        attempt("invite", lambda: invite(runtime, channel_id, user))
    # Contacts come from the live policy: a changed phone number applies to running incidents too.
    contact = runtime.policy.contacts.get(user)
    if contact is None:
        return claim
    now = runtime.clock.now()
    policy, contacts = runtime.policy, runtime.contacts
    if contact.sms and "sms" not in done:
        text = messages.sms_text(claim.view, claim.tier_name, claim.reason, claim.requested_by, now)
        attempt("sms", lambda: _ok(id=contacts.sms(policy, contact.sms or "", text)))
    if contact.email and "email" not in done:
        subject = messages.email_subject(claim.view, claim.tier_name)
        body = messages.email_body(claim.view, claim.tier_name, claim.reason, claim.requested_by, now)
        attempt("email", lambda: _ok(id=contacts.email(policy, contact.email or "", subject, body)))
    if contact.webhook and "webhook" not in done:
        payload = messages.webhook_payload(
            claim.view, user, claim.tier_name, claim.reason, claim.requested_by, claim.key, now
        )
        attempt("webhook", lambda: _ok(status=contacts.webhook(policy, contact.webhook or "", payload)))
    return claim


def save_progress(runtime: Runtime, claim: Claim) -> None:
    """The DM's success, for the crash window before `record` (bot.escalation.progress)."""
    result = claim.results["slack"]
    progress.save(
        runtime.engine,
        claim.id,
        claim.attempt,
        {**claim.deliveries, "slack": result},
        datetime.fromisoformat(result["at"]),
    )


def invite(runtime: Runtime, channel_id: str, user: str) -> dict[str, Any]:
    try:
        runtime.warroom.invite(channel_id, [user])
    except ChatError as exc:
        if exc.code != "already_in_channel":
            raise
    return _ok()


CHANNEL_NAMES = {
    "slack": N_("Slack DM"),
    "invite": N_("channel invite"),
    "sms": N_("SMS"),
    "email": N_("e-mail"),
    "webhook": N_("webhook"),
}


def channel_name(channel: str) -> str:
    """How the timeline names a delivery channel, in the language in force."""
    return word_for(CHANNEL_NAMES, channel)
