"""AWS, the guide's security section: `block-ip <cidr>` (临时IP封禁, `iptables -A INPUT -s ip -j DROP`)
and the key-leak procedure (密钥泄露应急处理): `rotate-key <iam-user>`, then `deactivate-key <iam-user>`.

block-ip adds the CIDR to the WAFv2 IP set named in the target (`waf_ip_set`, which a deny rule of the
web ACL references) or, without one, a deny entry to the target's `network_acl` at the lowest free
rule number in `remediation.bounds.nacl_rules` (below the allow rules, so it is evaluated first).
CIDRs wider than `block_min_prefix_v4`/`v6` are refused, and so are loopback, link-local and 0.0.0.0/0.

rotate-key creates a second access key for the IAM user (an IAM user has at most two) and sends its
secret once, by DM, to the requester only — never to the channel, the audit log or the logs. Then a
second preview is posted: `deactivate-key` sets every older active key of the user Inactive (not
deleted: a forgotten consumer can be found in CloudTrail and the key re-activated).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from bot.config.policy import Policy
from bot.diagnostics import aws as diag
from bot.diagnostics.base import UsageError
from bot.i18n import N_, _
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused

IAM_ACTIONS = ("wafv2:GetIPSet", "wafv2:UpdateIPSet", "ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry",
               "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:CreateAccessKey", "iam:UpdateAccessKey")  # fmt: skip
_IAM_USER = re.compile(r"^[\w+=,.@-]{1,64}$")
_CHECKLIST_TITLE = N_("Key-leak checklist (the guide's 密钥泄露应急处理)")
_CHECKLIST_STEPS = N_(
    "1. rotate at once — new key made, old one deactivated "
    "after the second confirm; 2. assess the impact — what the leaked key could do (its policies); "
    "3. audit access — CloudTrail events of the old key id since the leak (`/diag aws cloudwatch` for "
    "anomalies); 4. notify — the owning team and, if data was reached, security and the users concerned. "
    "Update every consumer of the key (Secrets, CI) before deactivating the old one."
)


def checklist() -> str:
    """The guide's key-leak checklist in the language in force."""
    return f"{_(_CHECKLIST_TITLE)}: {_(_CHECKLIST_STEPS)}"


# ------------------------------------------------------------------------------------- block-ip
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UsageError(
            _("`{value}` is not an IP address or CIDR (like 203.0.113.7 or 203.0.113.0/24).", value=text[:60])
        ) from None


def _validate_block(args: list[str], options: dict[str, str]) -> None:
    if args:
        _network(args[0])


def block_bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    net = _network(args[0])
    least = (
        policy.remediation.bounds.block_min_prefix_v4
        if net.version == 4
        else policy.remediation.bounds.block_min_prefix_v6
    )
    if net.prefixlen < least:
        raise Refused(
            "out_of_bounds",
            _(
                "{net} is wider than /{least}, the widest `aws block-ip` may block "
                "(`remediation.bounds.block_min_prefix_v{version}` in the YAML policy).",
                net=net,
                least=least,
                version=net.version,
            ),
        )
    if net.is_loopback or net.is_link_local or net.is_multicast or net.is_unspecified:
        raise Refused(
            "out_of_bounds", _("{net} is not a client network (loopback, link-local or multicast).", net=net)
        )


def _where(ctx: ActionContext) -> str:
    target = ctx.target
    if target.waf_ip_set is not None:
        return "waf"
    if target.network_acl:
        return "nacl"
    raise Refused(
        "not_configured",
        _(
            "The aws target {target_name} names no `waf_ip_set` or `network_acl` to block in; add one in the YAML policy.",
            target_name=ctx.target_name,
        ),
    )


def _ip_set(ctx: ActionContext, wafv2: Any) -> tuple[list[str], str]:
    spec = ctx.target.waf_ip_set
    got = wafv2.get_ip_set(Name=spec.name, Scope=spec.scope, Id=spec.id)
    return list(got["IPSet"].get("Addresses") or []), str(got["LockToken"])


def _acl_entries(ctx: ActionContext, ec2: Any) -> list[dict[str, Any]]:
    acls = ec2.describe_network_acls(NetworkAclIds=[ctx.target.network_acl])["NetworkAcls"]
    return [e for e in acls[0].get("Entries") or [] if not e.get("Egress")]


def _free_rule(ctx: ActionContext, entries: list[dict[str, Any]]) -> int:
    rules = ctx.policy.remediation.bounds.nacl_rules
    used = {int(e["RuleNumber"]) for e in entries}
    for number in range(rules.min, rules.max + 1):
        if number not in used:
            return number
    raise Refused(
        "out_of_bounds",
        _(
            "No free rule number in {min}–{max} of {network_acl}.",
            min=rules.min,
            max=rules.max,
            network_acl=ctx.target.network_acl,
        ),
    )


def block_preview(ctx: ActionContext) -> Preview:
    net, how = str(_network(ctx.args[0])), _where(ctx)
    if how == "waf":
        spec = ctx.target.waf_ip_set
        with diag.aws(ctx.check(), "wafv2") as wafv2:
            addresses, _token = _ip_set(ctx, wafv2)
        if net in addresses:
            raise Refused(
                "no_change", _("{net} is already in the WAF IP set {name}.", net=net, name=spec.name)
            )
        return Preview(
            title=_("Block {net} in WAF IP set {name}", net=net, name=spec.name),
            changes=[Change("addresses", str(len(addresses)), f"{len(addresses) + 1} (+ {net})")],
            facts=[
                ("IP set", f"{spec.name} ({spec.scope})"),
                ("how", _("the web ACL's rule that references the set blocks it")),
            ],
            note=_(
                "Effective within a minute at the load balancer / CloudFront; undo by removing it from the set."
            ),
            expect={"how": how},
        )
    with diag.aws(ctx.check(), "ec2") as ec2:
        entries = _acl_entries(ctx, ec2)
    if any(e.get("CidrBlock") == net and e.get("RuleAction") == "deny" for e in entries):
        raise Refused(
            "no_change",
            _("{net} is already denied in {network_acl}.", net=net, network_acl=ctx.target.network_acl),
        )
    rule = _free_rule(ctx, entries)
    return Preview(
        title=_("Block {net} in network ACL {network_acl}", net=net, network_acl=ctx.target.network_acl),
        changes=[
            Change(
                "inbound rules", str(len(entries)), f"{len(entries) + 1} (rule {rule}: deny all from {net})"
            )
        ],
        facts=[
            ("network ACL", ctx.target.network_acl),
            ("rule number", f"{rule} (evaluated before higher numbers)"),
        ],
        note=_("Applies to every subnet of the ACL at once, all ports; undo by deleting the rule."),
        expect={"how": how, "rule": rule},
    )


def block_apply(ctx: ActionContext) -> Applied:
    net, how = str(_network(ctx.args[0])), _where(ctx)
    if how == "waf":
        spec = ctx.target.waf_ip_set
        with diag.aws(ctx.check(), "wafv2") as wafv2:
            addresses, lock = _ip_set(ctx, wafv2)
            if net in addresses:
                raise Refused(
                    "no_change", _("{net} is already in the WAF IP set {name}.", net=net, name=spec.name)
                )
            # The lock token makes a concurrent edit fail (WAFOptimisticLockException) instead of being lost.
            wafv2.update_ip_set(
                Name=spec.name, Scope=spec.scope, Id=spec.id, Addresses=[*addresses, net], LockToken=lock
            )
            after, _token_after = _ip_set(ctx, wafv2)
        return Applied(
            summary=_("Blocked {net} in WAF IP set {name}", net=net, name=spec.name),
            changes=[Change("addresses", str(len(addresses)), str(len(after)))],
            note=_(
                "Watch the blocked requests in the web ACL's sampled requests; remove the CIDR from the set to undo."
            ),
            data={"cidr": net, "ip_set": spec.name, "addresses": len(after)},
        )
    with diag.aws(ctx.check(), "ec2") as ec2:
        entries = _acl_entries(ctx, ec2)
        rule = _free_rule(ctx, entries)
        ec2.create_network_acl_entry(NetworkAclId=ctx.target.network_acl, RuleNumber=rule, Protocol="-1",
                                     RuleAction="deny", Egress=False, CidrBlock=net)  # fmt: skip
    return Applied(
        summary=_(
            "Blocked {net} in network ACL {network_acl} (rule {rule})",
            net=net,
            network_acl=ctx.target.network_acl,
            rule=rule,
        ),
        changes=[Change("inbound rules", str(len(entries)), str(len(entries) + 1))],
        note=_(
            "Undo with `aws ec2 delete-network-acl-entry --network-acl-id {network_acl} --ingress --rule-number {rule}`.",
            network_acl=ctx.target.network_acl,
            rule=rule,
        ),
        data={"cidr": net, "network_acl": ctx.target.network_acl, "rule": rule},
    )


# ------------------------------------------------------------------------------- rotate-key
def _validate_user(args: list[str], options: dict[str, str]) -> None:
    if args and not _IAM_USER.match(args[0]):
        raise UsageError(
            _("`{value}` is not an IAM user name (letters, digits and +=,.@_-).", value=args[0][:60])
        )


def _short(key_id: str) -> str:
    """A key id by its last four characters: enough to tell two apart, nothing the masker must hide."""
    return f"…{key_id[-4:]}"


def _digest(key_id: str) -> str:
    """What the signed token carries instead of a key id: the button's value is visible in the channel."""
    return hashlib.sha256(key_id.encode()).hexdigest()[:16]


def _keys(iam: Any, user: str) -> list[dict[str, Any]]:
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return sorted(keys, key=lambda k: k["CreateDate"])


def _key_line(iam: Any, key: dict[str, Any]) -> str:
    created = key["CreateDate"]
    age = (datetime.now(UTC) - created).days if isinstance(created, datetime) else "?"
    try:
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"].get(
            "LastUsedDate"
        )
    except Exception:  # last-used is advisory: its absence never blocks a rotation
        used = None
    return f"{_short(key['AccessKeyId'])} {key['Status']}, {age} d old, last used {used or 'never / unknown'}"


def rotate_preview(ctx: ActionContext) -> Preview:
    user = ctx.args[0]
    with diag.aws(ctx.check(), "iam") as iam:
        keys = _keys(iam, user)
        lines = [_key_line(iam, k) for k in keys]
    if len(keys) >= 2:
        raise Refused(
            "limit",
            _(
                "IAM user {user} already has two access keys ({keys}): AWS allows two. "
                "Deactivate and delete the unused one first.",
                user=user,
                keys="; ".join(lines),
            ),
        )
    return Preview(
        title=_("Rotate the access key of IAM user {user}", user=user),
        changes=[
            Change(
                "access keys",
                f"{len(keys)} ({'; '.join(lines) or 'none'})",
                f"{len(keys) + 1}: a new active key",
            )
        ],
        facts=[
            (
                "new secret",
                _("sent once by DM to the requester only, never to this channel or the audit log"),
            ),
            ("old key", _("stays active until a second confirm deactivates it")),
        ],
        note=checklist(),
        expect={"keys": [_digest(k["AccessKeyId"]) for k in keys]},
    )


def rotate_apply(ctx: ActionContext) -> Applied:
    user = ctx.args[0]
    with diag.aws(ctx.check(), "iam") as iam:
        keys = _keys(iam, user)
        if [_digest(k["AccessKeyId"]) for k in keys] != list(ctx.expect.get("keys") or []):
            raise Refused(
                "changed",
                _("The access keys of {user} changed since the preview; run the command again.", user=user),
            )
        new = iam.create_access_key(UserName=user)["AccessKey"]
    private = (
        _(
            "🔑 New access key for IAM user {user} (shown once, only to you — store it in your secret store now):",
            user=user,
        )
        + f"\nAccessKeyId: {new['AccessKeyId']}\nSecretAccessKey: {new['SecretAccessKey']}"
    )
    return Applied(
        summary=_(
            "Created a new access key {short} for IAM user {user}",
            short=_short(new["AccessKeyId"]),
            user=user,
        ),
        changes=[Change("access keys", str(len(keys)), str(len(keys) + 1))],
        facts=[
            ("old key(s)", ", ".join(_short(k["AccessKeyId"]) for k in keys) or "none"),
            ("secret", _("sent by DM to the requester")),
        ],
        note=checklist(),
        data={
            "user": user,
            "new_key": _short(new["AccessKeyId"]),
            "old_keys": [_short(k["AccessKeyId"]) for k in keys],
        },
        private=private,
        follow_up=f"aws {ctx.target_name} deactivate-key {user}" if keys else "",
    )


def deactivate_preview(ctx: ActionContext) -> Preview:
    user = ctx.args[0]
    with diag.aws(ctx.check(), "iam") as iam:
        keys = _keys(iam, user)
        old = [k for k in keys[:-1] if k["Status"] == "Active"]
        lines = {k["AccessKeyId"]: _key_line(iam, k) for k in keys}
    if not old:
        raise Refused(
            "no_change",
            _("IAM user {user} has no active key older than its newest; nothing to deactivate.", user=user),
        )
    return Preview(
        title=_("Deactivate the old access key(s) of IAM user {user}", user=user),
        changes=[Change(f"key {lines[k['AccessKeyId']]}", "Active", "Inactive") for k in old],
        facts=[("kept active", lines[keys[-1]["AccessKeyId"]])],
        note=_(
            "Anything still using the old key fails from now on (check 'last used' above). "
            "Inactive, not deleted: it can be re-activated while you find a forgotten consumer."
        ),
        expect={"keys": [_digest(k["AccessKeyId"]) for k in old]},
    )


def deactivate_apply(ctx: ActionContext) -> Applied:
    user = ctx.args[0]
    listed = list(ctx.expect.get("keys") or [])
    with diag.aws(ctx.check(), "iam") as iam:
        current = {k["AccessKeyId"]: k for k in _keys(iam, user)}
        done = []
        for key_id in current:
            if _digest(key_id) in listed and current[key_id]["Status"] == "Active":
                iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
                done.append(_short(key_id))
    return Applied(
        summary=_("Deactivated {n} old access key(s) of IAM user {user}", n=len(done), user=user),
        changes=[Change(f"key {k}", "Active", "Inactive") for k in done],
        note=_("Delete it once nothing has failed for a while (`aws iam delete-access-key`). ")
        + _(_CHECKLIST_STEPS),
        data={"user": user, "deactivated": done},
    )


ACTIONS = (
    Action(kind="aws", verb="block-ip", usage="<ip or cidr>",
           summary=N_("deny a client address in the target's WAF IP set or network ACL"),
           guide="iptables -A INPUT -s [suspicious_ip] -j DROP", args=1, validate=_validate_block,
           bounds=block_bounds, preview=block_preview, apply=block_apply),
    Action(kind="aws", verb="rotate-key", usage="<iam-user>",
           summary=N_("create a new access key (secret by DM to you only), then deactivate the old one on a second confirm"),
           guide="密钥泄露应急处理: 立即轮换", args=1, validate=_validate_user,
           preview=rotate_preview, apply=rotate_apply),
    Action(kind="aws", verb="deactivate-key", usage="<iam-user>",
           summary=N_("set the IAM user's older active access keys Inactive (keeps the newest)"),
           guide="aws iam update-access-key --status Inactive", args=1, validate=_validate_user,
           preview=deactivate_preview, apply=deactivate_apply),
)  # fmt: skip
