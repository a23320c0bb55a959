"""Confirm tokens: what the Confirm button carries, signed so that nobody can forge or alter it.

Format (ASCII, at most ~600 characters, well under Slack's 2,000 for a button value):

    r1.<payload>.<mac>

- `payload` is base64url (no padding) of compact, key-sorted JSON:
  `{"v": 1, "action": "k8s.scale", "target": "prod", "args": ["ecommerce-app", "5"],
    "options": {"ns": "ecommerce"}, "requester": "U…", "channel": "C…", "expires_at": 1767603900,
    "nonce": "<22 url-safe chars>", "expect": {…}}`
  (`expect` holds the preview facts that applying re-checks, e.g. the query a KILL was shown for).
- `mac` is base64url of HMAC-SHA256(key, "r1." + payload), compared in constant time.
- `key` is never the raw Slack secret: it is HMAC-SHA256(SLACK_SIGNING_SECRET, "warroom/remediation-confirm/v1")
  (in Socket Mode, without a signing secret, the same derivation from the bot token).

The payload is signed, not encrypted: it holds ids and names, never a secret. A token expires at
`expires_at` (policy.remediation.confirm_ttl after the preview) and works once: its nonce is claimed
in the database in the same transaction as the decision (see bot.remediation.flows).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.i18n import N_, _

VERSION = "r1"
KEY_LABEL = b"warroom/remediation-confirm/v1"
MAX_TOKEN = 2000  # Slack's limit for a button value


class TokenKeyMissing(RuntimeError):
    """No secret to derive the signing key from."""


class TokenError(Exception):
    """A token that must not be honoured. `code` is "tampered" or "expired"; `claims` is set when the
    signature was good (an expired token still says what it was for)."""

    def __init__(self, code: str, message: str, claims: Claims | None = None):
        super().__init__(message)
        self.code = code
        self.claims = claims


@dataclass(frozen=True)
class Claims:
    action: str  # "<kind>.<verb>", e.g. "k8s.restart"
    target: str  # the target's name in policy.targets.<kind>
    args: tuple[str, ...]
    requester: str
    channel: str
    expires_at: int  # epoch seconds, UTC
    nonce: str
    options: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.action.split(".", 1)[0]

    @property
    def verb(self) -> str:
        return self.action.split(".", 1)[-1]

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "action": self.action,
            "target": self.target,
            "args": list(self.args),
            "options": dict(self.options),
            "requester": self.requester,
            "channel": self.channel,
            "expires_at": self.expires_at,
            "nonce": self.nonce,
            "expect": dict(self.expect),
        }

    @classmethod
    def from_json(cls, data: Any) -> Claims:
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("not a version-1 payload")
        args, options, expect = data.get("args"), data.get("options") or {}, data.get("expect") or {}
        strings = ("action", "target", "requester", "channel", "nonce")
        if not all(isinstance(data.get(name), str) and data[name] for name in strings):
            raise ValueError("a field is missing")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ValueError("args must be strings")
        if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
            raise ValueError("options must be strings")
        if not isinstance(expect, dict) or not isinstance(data.get("expires_at"), int):
            raise ValueError("bad expect or expires_at")
        return cls(
            action=data["action"],
            target=data["target"],
            args=tuple(args),
            requester=data["requester"],
            channel=data["channel"],
            expires_at=data["expires_at"],
            nonce=data["nonce"],
            options=dict(options),
            expect=dict(expect),
        )


def derive_key(secret: str, label: bytes = KEY_LABEL) -> bytes:
    """A key for confirm tokens only: a leaked token key never signs Slack requests, and vice versa."""
    if not secret:
        raise TokenKeyMissing("an empty secret cannot sign anything")
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def key_from_settings(settings: Any) -> bytes:
    """The signing key from SLACK_SIGNING_SECRET, else (Socket Mode) from SLACK_BOT_TOKEN."""
    for name, label in (
        ("slack_signing_secret", KEY_LABEL),
        ("slack_bot_token", KEY_LABEL + b"/bot-token"),
    ):
        value = getattr(settings, name, None)
        secret = value.get_secret_value() if value is not None else ""
        if secret:
            return derive_key(secret, label)
    raise TokenKeyMissing(
        _("confirm buttons cannot be signed: set SLACK_SIGNING_SECRET (or SLACK_BOT_TOKEN in Socket Mode)")
    )


def new_claims(
    *,
    action: str,
    target: str,
    args: list[str] | tuple[str, ...],
    requester: str,
    channel: str,
    now: datetime,
    ttl: timedelta,
    options: dict[str, str] | None = None,
    expect: dict[str, Any] | None = None,
) -> Claims:
    return Claims(
        action=action,
        target=target,
        args=tuple(args),
        requester=requester,
        channel=channel,
        expires_at=int((now + ttl).timestamp()),
        nonce=secrets.token_urlsafe(16),
        options=dict(options or {}),
        expect=dict(expect or {}),
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def sign(key: bytes, claims: Claims) -> str:
    body = json.dumps(claims.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    signed = f"{VERSION}.{_b64(body.encode())}"
    token = f"{signed}.{_b64(_mac(key, signed))}"
    if len(token) > MAX_TOKEN:
        raise ValueError(f"confirm token of {len(token)} characters does not fit a button value")
    return token


_TAMPERED = N_(
    "This confirmation was altered or is not one of ours (its signature does not match); nothing was run."
)


def verify(key: bytes, token: str, now: datetime) -> Claims:
    """The claims of a genuine, unexpired token; TokenError("tampered" | "expired") otherwise."""
    try:
        version, payload, mac = token.split(".")
        if version != VERSION:
            raise ValueError("unknown version")
        good = hmac.compare_digest(_unb64(mac), _mac(key, f"{version}.{payload}"))
    except (ValueError, binascii.Error, UnicodeError, AttributeError):
        raise TokenError("tampered", _(_TAMPERED)) from None
    if not good:
        raise TokenError("tampered", _(_TAMPERED))
    try:
        claims = Claims.from_json(json.loads(_unb64(payload)))
    except (ValueError, binascii.Error, UnicodeError):
        raise TokenError("tampered", _(_TAMPERED)) from None
    if now.timestamp() >= claims.expires_at:
        raise TokenError(
            "expired",
            _(
                "This confirmation expired at {time} UTC; run the `/remediate` command again for a fresh preview.",
                time=f"{claims.expires:%H:%M:%S}",
            ),
            claims,
        )
    return claims
