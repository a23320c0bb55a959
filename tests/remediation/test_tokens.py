"""Confirm tokens: HMAC-SHA256 with a derived key, expiry, tamper detection — and who may decide."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.remediation import permissions, tokens

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KEY = tokens.derive_key("8f742231b10e8888abcd99yyyzzz85a5")


def _claims(**changes: object) -> tokens.Claims:
    base = {
        "action": "k8s.scale",
        "target": "prod",
        "args": ["ecommerce-app", "5"],
        "requester": "U0ALICE",
        "channel": "C1",
        "now": NOW,
        "ttl": timedelta(minutes=5),
        "options": {"ns": "ecommerce"},
        "expect": {"replicas": 2},
    }
    base.update(changes)
    return tokens.new_claims(**base)  # type: ignore[arg-type]


def test_round_trip_and_format() -> None:
    claims = _claims()
    token = tokens.sign(KEY, claims)
    assert token.startswith("r1.") and token.count(".") == 2 and len(token) < 1000
    assert tokens.verify(KEY, token, NOW + timedelta(minutes=4, seconds=59)) == claims
    assert claims.expires == NOW + timedelta(minutes=5)
    assert len(claims.nonce) >= 20 and _claims().nonce != claims.nonce  # a fresh nonce every time


def test_expired_token_still_says_what_it_was_for() -> None:
    token = tokens.sign(KEY, _claims())
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify(KEY, token, NOW + timedelta(minutes=5))
    assert caught.value.code == "expired" and caught.value.claims is not None
    assert "expired at 09:05:00 UTC" in str(caught.value)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another MAC
        lambda t: t.replace("r1.", "r2.", 1),  # another version
        lambda t: "r1.garbage",
        lambda t: "",
        lambda t: t + ".extra",
    ],
)
def test_tampered_tokens_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify(KEY, mangle(tokens.sign(KEY, _claims())), NOW)
    assert caught.value.code == "tampered" and caught.value.claims is None


def test_changed_payload_under_the_old_signature_is_refused() -> None:
    version, payload, mac = tokens.sign(KEY, _claims()).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for field, value in [("args", ["ecommerce-app", "50"]), ("requester", "U0MALLORY"),
                         ("expires_at", data["expires_at"] + 86400), ("channel", "C2")]:  # fmt: skip
        forged = base64.urlsafe_b64encode(json.dumps({**data, field: value}).encode()).rstrip(b"=").decode()
        with pytest.raises(tokens.TokenError, match="altered"):
            tokens.verify(KEY, f"{version}.{forged}.{mac}", NOW)


def test_another_key_does_not_verify() -> None:
    token = tokens.sign(KEY, _claims())
    with pytest.raises(tokens.TokenError):
        tokens.verify(tokens.derive_key("another secret"), token, NOW)


def test_key_is_derived_never_the_raw_secret() -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    key = tokens.key_from_settings(Settings(slack_signing_secret=SecretStr(secret)))
    assert key != secret.encode() and len(key) == 32 and key == KEY
    socket_mode = tokens.key_from_settings(Settings(slack_bot_token=SecretStr("xoxb-1-2")))
    assert socket_mode != tokens.derive_key("xoxb-1-2")  # its own label
    with pytest.raises(tokens.TokenKeyMissing, match="SLACK_SIGNING_SECRET"):
        tokens.key_from_settings(Settings())


class FakePager:
    def __init__(self, groups: dict[str, list[str]], broken: tuple[str, ...] = ()):
        self.groups, self.broken, self.asked = groups, broken, []

    def group_members(self, group_id: str) -> list[str]:
        self.asked.append(group_id)
        if group_id in self.broken:
            raise RuntimeError("missing_scope")
        return self.groups.get(group_id, [])


def test_permissions_users_groups_and_cancel() -> None:
    policy = Policy.model_validate({"roles": {"remediators": ["U0CAROL", "S0SRE", "S0DBA"]}})
    pager = FakePager({"S0SRE": ["U0DAVE"], "S0DBA": ["U0ERIN"]}, broken=("S0DBA",))
    assert permissions.may_confirm(policy, pager, "U0CAROL").via == "U0CAROL"
    assert pager.asked == []  # a listed user needs no group lookup
    assert permissions.may_confirm(policy, pager, "U0DAVE").via == "S0SRE"
    verdict = permissions.may_confirm(policy, pager, "U0ERIN")
    assert not verdict.allowed and "S0DBA could not be read" in verdict.reason
    assert verdict.allowed_ids == ("U0CAROL", "S0SRE", "S0DBA")
    assert permissions.may_cancel(policy, pager, "U0ALICE", requester="U0ALICE").allowed
    assert permissions.may_cancel(policy, pager, "U0DAVE", requester="U0ALICE").allowed
    refused = permissions.may_cancel(policy, pager, "U0BOB", requester="U0ALICE")
    assert not refused.allowed and "only the requester or a remediator" in refused.reason
    nobody = permissions.may_confirm(Policy(), pager, "U0CAROL")
    assert not nobody.allowed and "roles.remediators" in nobody.reason
