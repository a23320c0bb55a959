"""`language: zh`: an Alertmanager alert opens an incident, proposals, folds, storms and resolutions
are told in Chinese — over the real HTTP endpoint, through the Slack emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.i18n import set_default_language
from bot.incidents.timeline import event_text
from tests.alerts.helpers import (
    ANNOUNCE,
    ONCALL,
    all_text,
    am_alert,
    am_webhook,
    groups,
    incidents,
    policy,
    post,
    timeline,
    wait_ticking,
)
from tests.harness import Harness


@pytest.fixture
def zh(db_url: str, token: tuple[str, str]) -> Iterator[Harness]:
    try:
        with Harness(db_url, policy=policy(token[0], extra="language: zh")) as h:
            h.emulator.add_user("oncall", id=ONCALL)
            h.emulator.add_channel("incidents", id=ANNOUNCE)
            yield h
    finally:
        set_default_language("en")  # the workspace language is process-wide


def _room_message(h: Harness, channel: str, needle: str) -> dict:
    try:
        return wait_ticking(
            h,
            lambda: next((m for m in h.emulator.messages(channel) if needle in all_text(m)), None),
            timeout=30,
        )
    except TimeoutError:
        print([all_text(m) for m in h.emulator.messages(channel)])
        raise


def test_an_alertmanager_alert_opens_an_incident_told_in_chinese(zh: Harness, token: tuple[str, str]) -> None:
    h = zh
    alert = am_alert("HighErrorRate", annotations={"summary": "结算接口 5xx 超过 5%"})
    assert post(h.url, "prometheus", am_webhook([alert]), token[1]).status == 200
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 30)
    channel = h.wait_until(lambda: h.incident_channel(), 30)
    summary = all_text(_room_message(h, channel.id, "标签："))
    assert "*告警* 来自 prometheus" in summary and "结算接口 5xx 超过 5%" in summary
    assert "Labels:" not in summary
    opened = h.wait_until(lambda: timeline(h.runtime, incident.id, "alert"), 30)
    # Stored in English, rendered in the reader's language.
    assert opened[0].text == "Opened from a prometheus alert automatically: 结算接口 5xx 超过 5%"
    assert (
        event_text(opened[0].kind, opened[0].text, opened[0].data)
        == "由 prometheus 告警自动开启：结算接口 5xx 超过 5%"
    )

    # Another alert of the group is folded into the incident, and the room is told how many.
    second = am_alert(
        "HighErrorRate", labels={"instance": "b"}, annotations={"summary": "结算接口 5xx 超过 5%"}
    )
    assert post(h.url, "prometheus", am_webhook([alert, second]), token[1]).status == 200
    folded = _room_message(h, channel.id, "告警重复")
    assert all_text(folded).startswith("🔁 告警重复：又合并了 1 条通知 —— 2 个告警中 2 个在触发。")
    assert "告警组重复：又合并了 1 条通知（2 个告警中 2 个在触发）。" in [
        e.text for e in timeline(h.runtime, incident.id, "alert")
    ]

    # Resolved at the source: a notice with a Resolve button, in Chinese.
    resolved = am_webhook([{**alert, "status": "resolved"}, {**second, "status": "resolved"}])
    assert post(h.url, "prometheus", resolved, token[1]).status == 200
    notice = _room_message(h, channel.id, "告警组已恢复")
    text = all_text(notice)
    assert "✅ prometheus 告警组已恢复：结算接口 5xx 超过 5%。" in text
    assert "如果服务已恢复正常，请解决该事件。" in text
    buttons = [e["text"]["text"] for b in notice["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["解决"]


def test_a_proposal_and_its_answers_are_in_chinese(zh: Harness, token: tuple[str, str]) -> None:
    h = zh
    post(h.url, "prometheus", am_webhook([am_alert("DiskFilling", severity="warning")]), token[1])
    proposal = _room_message(h, ANNOUNCE, "要宣告事件吗？")
    text = all_text(proposal)
    assert "建议级别 *P3*" in text and "若无人响应，将于" in text
    [actions] = [b for b in proposal["blocks"] if b["type"] == "actions"]
    declare, select, dismiss = actions["elements"]
    assert declare["text"]["text"] == "宣告 P3" and dismiss["text"]["text"] == "忽略"
    assert select["placeholder"]["text"] == "宣告为…"
    assert [o["text"]["text"] for o in select["options"]] == ["宣告 P0", "宣告 P1", "宣告 P2", "宣告 P3"]

    h.driver.block_action(
        h.bob, ANNOUNCE, proposal["ts"], "alert_dismiss", value=str(groups(h.runtime)[0].id)
    )
    h.wait_until(
        lambda: any(
            m["ts"] == proposal["ts"] and f"已由 <@{h.bob}> 忽略。" in all_text(m)
            for m in h.emulator.messages(ANNOUNCE)
        ),
        30,
    )
    # A late click is told, in Chinese, what became of it.
    h.driver.block_action(
        h.carol, ANNOUNCE, proposal["ts"], "alert_declare", value=str(groups(h.runtime)[0].id)
    )
    late = h.wait_until(
        lambda: next(
            (
                m.get("text", "")
                for m in [*h.emulator.ephemerals(user=h.carol), *h.emulator.dms(h.carol)]
                if "已被处理" in m.get("text", "")
            ),
            None,
        ),
        30,
    )
    assert late == f"该告警已被处理（已忽略，由 {h.bob} 处理）；未做任何更改。"
    assert incidents(h.runtime) == []

    reply = h.reply(h.command("alerts"), timeout=30)
    assert reply == "1 个告警组，未匹配的在前"
