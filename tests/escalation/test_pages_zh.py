"""`language: zh`: pages in Chinese in every medium — the Slack DM, SMS (SNS) and e-mail (SES) on a
moto server, the timeline, the room's notices and the answers to `/incident page` and `oncall`."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import engine
from bot.i18n import set_default_language
from bot.incidents.timeline import event_text
from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import (
    DIRECTOR,
    GUIDE_POLICY,
    LEAD,
    ONCALL,
    channel_texts,
    close,
    declare,
    guide_policy,
    make_runtime,
    pages,
    seed_users,
    timeline,
)
from tests.harness import Harness
from tests.support.moto_server import moto_server


@pytest.fixture
def chinese() -> Iterator[None]:
    """The workspace language is process-wide (policy `language`): put English back for the next test."""
    try:
        yield
    finally:
        set_default_language("en")


def _moto_data(url: str) -> dict[str, Any]:
    return json.loads(urllib.request.urlopen(f"{url}/moto-api/data.json").read())


def test_a_page_reaches_a_person_in_chinese_by_dm_sms_and_email(emu, pg_url, chinese) -> None:
    clock = ManualClock()
    with moto_server() as aws_url:
        boto3.client("ses", region_name="us-east-1", endpoint_url=aws_url).verify_email_identity(
            EmailAddress="warroom@example.com"
        )
        policy = load_policy_text(
            GUIDE_POLICY
            + f"""
language: zh
contacts:
  {ONCALL}: {{sms: "+15555550100", email: oncall@example.com}}
paging: {{email_from: warroom@example.com, aws: main}}
targets:
  aws: {{main: {{region: us-east-1, endpoint_url: "{aws_url}"}}}}
"""
        )
        runtime = make_runtime(emu, pg_url, policy, clock)
        try:
            incident = declare(runtime, severity="p0", title="支付服务不可用")
            clock.advance(90)
            engine.run_due(runtime)

            [dm] = pages(emu, ONCALL, incident.id)
            shown = blocks_to_text(dm["blocks"])
            assert f"INC-{incident.id} P0: 支付服务不可用" in shown
            assert "*级别*" in shown and "*状态*\n已宣告" in shown and "*作战室*" in shown
            assert "你作为 *tier1* 被呼叫：尚无人确认。" in shown
            assert "确认" in [
                e["text"]["text"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]
            ]
            # (the DM's age is counted on the wall clock by the Slack layer, not on this test's clock)
            assert dm["text"].startswith(f":red_circle: 呼叫：INC-{incident.id} P0 —— 支付服务不可用（")
            assert dm["text"].endswith(f"前宣告）。请加入 <#{incident.channel_id}>")

            data = _moto_data(aws_url)
            [sms] = data["sns"]["SMS"]
            assert sms["message"] == (
                f"[Warroom] P0 INC-{incident.id}：支付服务不可用 —— 1m 前宣告，尚无人确认。"
                f"你作为 tier1 被呼叫。请在 Slack 中确认：#{incident.channel_name}"
            )
            [mail] = data["ses"]["Message"]
            assert mail["subject"] == f"[P0] INC-{incident.id} 支付服务不可用 —— 你被呼叫（tier1）"
            body = mail["body"]
            assert "宣告时间：" in body and "（1m 前）" in body and "状态：已宣告" in body
            assert "你作为 tier1 被呼叫。" in body and "点击呼叫消息上的“确认”" in body
            assert "Acknowledge" not in body and "Declared" not in body

            [paged] = [e.text for e in timeline(runtime, incident.id, "page")]
            assert paged == f"已通过 Slack 私信、短信、邮件 呼叫 <@{ONCALL}>（tier1）"
            # Escalation rows are stored in English and rendered in the reader's language.
            [first] = timeline(runtime, incident.id, "escalation")
            assert first.text == f"Paging tier1: <@{ONCALL}>"
            assert event_text(first.kind, first.text, first.data) == f"正在呼叫 tier1：<@{ONCALL}>"
        finally:
            close(runtime)


def test_escalation_breach_and_exhaustion_are_told_in_chinese(emu, pg_url, chinese) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, pg_url, guide_policy("language: zh\n"), clock)
    try:
        incident = declare(runtime, severity="p0", title="数据库主库宕机")
        engine.run_due(runtime)
        clock.advance(timedelta(minutes=16))  # the P0 response target (15m) and tier1's timeout pass
        engine.run_due(runtime)
        engine.run_due(runtime)
        assert len(pages(emu, LEAD, incident.id)) == 1
        texts = [
            event_text(e.kind, e.text, e.data)
            for e in timeline(runtime, incident.id, "escalation", "response_breach")
        ]
        assert f"呼叫 tier1 后 15m 内无人确认：升级呼叫 tier2：<@{LEAD}>" in texts
        assert "响应目标已超时：宣告后 15m 仍无人确认" in texts
        room = channel_texts(emu, incident.channel_id or "")
        assert any(
            t.startswith(f":alarm_clock: INC-{incident.id}（P0") and "宣告 15m 后仍 *无人确认*" in t
            for t in room
        ), room

        clock.advance(timedelta(minutes=31))
        engine.run_due(runtime)
        clock.advance(timedelta(hours=1, minutes=1))
        engine.run_due(runtime)
        engine.run_due(runtime)
        room = channel_texts(emu, incident.channel_id or "")
        [exhausted] = [t for t in room if "*升级已用尽*" in t]
        assert "已呼叫 tier1 → tier2 → tier3（1 轮），仍无人确认" in exhausted
        assert "升级已用尽：所有层级都已呼叫，仍无人确认" in [
            event_text(e.kind, e.text, e.data) for e in timeline(runtime, incident.id, "escalation")
        ]
    finally:
        close(runtime)


def test_paging_by_hand_and_oncall_answer_in_chinese(db_url, chinese) -> None:
    clock = ManualClock()
    policy = guide_policy("language: zh\n")
    with Harness(db_url, policy=policy, clock=clock) as h:
        seed_users(h.emulator)
        incident = h.declare("p2 搜索变慢")
        engine.run_due(h.runtime)
        channel = incident.channel_id

        reply = h.reply(h.command(f"page <@{DIRECTOR}|director>", user=ONCALL, channel=channel), timeout=30)
        assert reply == f"正在呼叫（manual）：\n<@{DIRECTOR}>：已私信呼叫"
        [dm] = pages(h.emulator, DIRECTOR, incident.id)
        assert f"由 @{ONCALL} 手动呼叫。" in blocks_to_text(dm["blocks"])

        wrong = h.reply(h.command("page tier9", user=ONCALL, channel=channel), timeout=30)
        assert wrong.startswith("`tier9` 不是可以呼叫的对象。请用 `/incident page @user")
        assert "（层级：tier1, tier2, tier3）" in wrong

        oncall = h.reply(h.command("oncall", user=ONCALL, channel=channel), timeout=30)
        assert oncall.splitlines()[:3] == [
            "*此刻会呼叫谁* —— `default` 升级策略，重复 0 次：",
            "*tier1* —— 首先呼叫；等待 15m",
            f"  • <@{ONCALL}>",
        ]
        assert "*tier2* —— tier1 未确认时呼叫；等待 30m" in oncall


def test_a_person_whose_slack_speaks_chinese_gets_the_page_dm_in_chinese(emu, pg_url) -> None:
    """Workspace language en; the on-call engineer's Slack locale is zh-CN: their DM is Chinese,
    the room and the timeline stay in the workspace's language."""
    emu.users[ONCALL].locale = "zh-CN"
    clock = ManualClock()
    runtime = make_runtime(emu, pg_url, guide_policy(), clock)
    try:
        incident = declare(runtime, severity="p0", title="Payments down")
        engine.run_due(runtime)
        [dm] = pages(emu, ONCALL, incident.id)
        assert "你作为 *tier1* 被呼叫：尚无人确认。" in blocks_to_text(dm["blocks"])
        assert dm["text"].startswith(f":red_circle: 呼叫：INC-{incident.id} P0 —— Payments down（")
        [paged] = [e.text for e in timeline(runtime, incident.id, "page")]
        assert paged == f"Paged <@{ONCALL}> (tier1) via Slack DM"
    finally:
        close(runtime)
