"""`/remediate aws block-ip | rotate-key | deactivate-key` against moto in server mode (WAFv2, EC2 network
ACLs, IAM), through the bot's HTTP endpoint and the Slack emulator. The new secret must reach the
requester's DM once and nothing else: not the channel, not the audit log, not the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.remediation.conftest import CAROL, REGION, TTL_SECONDS, Bot


@dataclass
class Aws:
    url: str
    ip_set: dict[str, str]
    acl: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.url)


@pytest.fixture(scope="module")
def cloud(aws_url: str) -> Aws:
    wafv2 = boto3.client("wafv2", region_name=REGION, endpoint_url=aws_url)
    summary = wafv2.create_ip_set(
        Name="blocked", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["198.51.100.0/24"]
    )["Summary"]
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=aws_url)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=1, Protocol="-1", RuleAction="deny",
                                 Egress=False, CidrBlock="192.0.2.0/24")  # fmt: skip
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                 Egress=False, CidrBlock="0.0.0.0/0")  # fmt: skip
    return Aws(aws_url, {"name": summary["Name"], "id": summary["Id"], "scope": "REGIONAL"}, acl)


@pytest.fixture(scope="module")
def bot(kube: Any, cloud: Aws, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("remediate-aws")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    policy = Policy.model_validate(
        {
            "targets": {
                "aws": {
                    "edge": {"region": REGION, "endpoint_url": cloud.url, "waf_ip_set": cloud.ip_set},
                    "vpc": {"region": REGION, "endpoint_url": cloud.url, "network_acl": cloud.acl},
                    "main": {"region": REGION, "endpoint_url": cloud.url},
                }
            },
            "roles": {"remediators": [CAROL]},
            "remediation": {"confirm_ttl": f"{TTL_SECONDS}s"},
            "diagnostics": {"timeout": "8s"},
        }
    )
    clock = ManualClock()
    with Harness(url, policy=policy, clock=clock) as h:
        yield Bot(h, clock, kube, cloud.url)


def _addresses(cloud: Aws) -> list[str]:
    got = cloud.client("wafv2").get_ip_set(Name="blocked", Scope="REGIONAL", Id=cloud.ip_set["id"])
    return list(got["IPSet"]["Addresses"])


def test_block_ip_adds_the_cidr_to_the_waf_ip_set(bot: Bot, cloud: Aws) -> None:
    since = bot.last_audit_id()
    preview = bot.remediate("aws edge block-ip 203.0.113.7")
    assert "Block 203.0.113.7/32 in WAF IP set blocked" in preview["text"]
    assert _addresses(cloud) == ["198.51.100.0/24"]
    bot.click(preview, CAROL)
    assert "Blocked 203.0.113.7/32 in WAF IP set blocked" in bot.settled(preview)
    assert sorted(_addresses(cloud)) == ["198.51.100.0/24", "203.0.113.7/32"]
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    assert "already in the WAF IP set" in bot.ask("aws edge block-ip 203.0.113.7/32")


def test_block_ip_adds_a_deny_entry_to_the_network_acl_at_the_lowest_free_number(
    bot: Bot, cloud: Aws
) -> None:
    preview = bot.remediate("aws vpc block-ip 203.0.113.0/24")
    assert "rule 2: deny all from 203.0.113.0/24" in preview["text"] + str(preview["blocks"])
    bot.click(preview, CAROL)
    assert f"Blocked 203.0.113.0/24 in network ACL {cloud.acl} (rule 2)" in bot.settled(preview)
    acl = cloud.client("ec2").describe_network_acls(NetworkAclIds=[cloud.acl])["NetworkAcls"][0]
    entry = next(e for e in acl["Entries"] if e["RuleNumber"] == 2 and not e["Egress"])
    assert (entry["CidrBlock"], entry["RuleAction"]) == ("203.0.113.0/24", "deny")


def test_block_ip_bounds_and_bad_input(bot: Bot, cloud: Aws) -> None:
    since = bot.last_audit_id()
    assert "wider than /16" in bot.ask("aws edge block-ip 10.0.0.0/8")
    assert "wider than /16" in bot.ask("aws edge block-ip 0.0.0.0/0")
    assert "not a client network" in bot.ask("aws edge block-ip 127.0.0.1")
    assert "names no `waf_ip_set` or `network_acl`" in bot.ask("aws main block-ip 203.0.113.9")
    assert "is not an IP address or CIDR" in bot.ask("aws edge block-ip evil.example")
    assert [r.data["reason"] for r in bot.audit(since)] == [
        "out_of_bounds",
        "out_of_bounds",
        "out_of_bounds",
        "not_configured",
    ]
    assert _addresses(cloud).count("10.0.0.0/8") == 0


def test_rotate_key_dms_the_secret_once_then_deactivates_the_old_key_on_a_second_confirm(
    bot: Bot, cloud: Aws
) -> None:
    iam = cloud.client("iam")
    iam.create_user(UserName="deploy-bot")
    old = iam.create_access_key(UserName="deploy-bot")["AccessKey"]
    since = bot.last_audit_id()
    dms_before = len(bot.h.emulator.dms(bot.h.alice))
    carol_dms = len(bot.h.emulator.dms(CAROL))
    preview = bot.remediate("aws main rotate-key deploy-bot")
    assert "Rotate the access key of IAM user deploy-bot" in preview["text"]
    assert f"…{old['AccessKeyId'][-4:]} Active" in str(preview["blocks"])
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "Created a new access key" in settled and "Key-leak checklist" in settled and "notify" in settled
    keys = iam.list_access_keys(UserName="deploy-bot")["AccessKeyMetadata"]
    new = next(k for k in keys if k["AccessKeyId"] != old["AccessKeyId"])
    assert {k["Status"] for k in keys} == {"Active"}  # the old key still works until the second confirm
    dms = bot.h.emulator.dms(bot.h.alice)[dms_before:]
    assert len(dms) == 1 and new["AccessKeyId"] in dms[0]["text"] and "SecretAccessKey: " in dms[0]["text"]
    secret = dms[0]["text"].split("SecretAccessKey: ", 1)[1].strip()
    assert len(secret) >= 20
    assert len(bot.h.emulator.dms(CAROL)) == carol_dms  # the confirmer does not get it
    # The second step: its own preview, posted for the requester, with its own Confirm.
    second = bot.wait(
        lambda: _preview_titled(bot, "Deactivate the old access key(s) of IAM user deploy-bot"), timeout=15
    )
    bot.click(second, CAROL)
    assert "Deactivated 1 old access key(s) of IAM user deploy-bot" in bot.settled(second)
    status = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName="deploy-bot")["AccessKeyMetadata"]
    }
    assert status == {old["AccessKeyId"]: "Inactive", new["AccessKeyId"]: "Active"}
    # The secret is nowhere but the one DM.
    everywhere = [str(m) for m in bot.h.emulator.messages(bot.h.general)] + [
        r.detail + str(r.data) for r in bot.audit(since)
    ]
    assert not any(secret in text for text in everywhere)
    assert bot.outcomes(since) == ["requested", "confirmed", "ok", "requested", "confirmed", "ok"]
    assert bot.audit(since)[2].data["result"]["sent_privately_to"] == bot.h.alice


def test_rotate_key_refuses_a_user_with_two_keys(bot: Bot, cloud: Aws) -> None:
    iam = cloud.client("iam")
    iam.create_user(UserName="full")
    iam.create_access_key(UserName="full")
    iam.create_access_key(UserName="full")
    assert "already has two access keys" in bot.ask("aws main rotate-key full")
    assert "not an IAM user name" in bot.ask("aws main rotate-key 'a b'")


def _preview_titled(bot: Bot, title: str) -> dict[str, Any] | None:
    for message in bot.h.emulator.messages(bot.h.general):
        blocks = message.get("blocks") or []
        if title in blocks_to_text(blocks, message.get("text")) and any(
            b.get("block_id") == "remediate_actions" for b in blocks
        ):
            return message
    return None
