"""What the chat and the pages did not cover, in Chinese: a set-up problem (stored in English with
Slack's error inside) told to a zh declarer and on the zh timeline; the zh postmortem's timeline."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.i18n import use_language
from bot.incidents import timeline
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.i18n.test_lifecycle_e2e import english_runs
from tests.postmortem.helpers import T0


def test_a_channel_that_cannot_be_made_is_told_in_chinese(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(language="zh")) as h:
        h.emulator.users[h.alice].locale = "zh-CN"
        h.emulator.fail("conversations.create", error="restricted_action", times=None)
        reply = h.reply(h.command("p2 结算接口返回 502", user=h.alice), timeout=15)
        assert "无法创建频道：restricted_action" in reply, reply
        assert "Could not create the channel" not in reply
        incident = h.latest_incident()
        assert incident is not None
        with h.runtime.session() as session:
            [row] = timeline.events(session, incident.id, {"setup_error"})
            # stored once, in English (logs, exports); shown in the reader's language
            assert row.text == "Could not create the channel: restricted_action"
            with use_language("zh"):
                assert timeline.event_text(row.kind, row.text, row.data) == "无法创建频道：restricted_action"


def test_an_english_reader_of_a_chinese_workspace_reads_it_in_english(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(language="zh")) as h:
        h.emulator.users[h.bob].locale = "en-US"
        h.emulator.fail("conversations.create", error="restricted_action", times=None)
        reply = h.reply(h.command("p2 Checkout returns 502", user=h.bob), timeout=15)
        assert "Could not create the channel: restricted_action" in reply, reply


def test_the_zh_report_chart_never_draws_boxes_for_missing_glyphs(sqlite_url: str) -> None:
    """Chinese labels with a font that has them; English labels when no installed font has them."""
    from sqlalchemy.orm import Session

    from bot.db.engine import create_db_engine
    from bot.reports import figures, render

    engine = create_db_engine(sqlite_url)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with Session(engine) as session:
        report = figures.build(session, Policy(language="zh"), now - timedelta(days=7), now, now)
    engine.dispose()
    with warnings.catch_warnings(), use_language("zh"):
        warnings.filterwarnings("error", message=".*missing from font")
        png = render.chart_png(report)
    assert png.startswith(b"\x89PNG")
    if render.cjk_font() is None:  # this machine: no CJK font, so the labels fell back to English
        with warnings.catch_warnings(record=True) as caught, use_language("zh"):
            warnings.simplefilter("always")
            render._chart(report, None)  # what it would have drawn without the fallback
        assert any("missing from font" in str(w.message) for w in caught)


def _answer(h: Harness, text: str, user: str, channel: str | None = None) -> str:
    [posted] = h.command(text, user=user, channel=channel).wait_responses(1, timeout=15)
    return blocks_to_text(posted.get("blocks"), posted.get("text"))


def test_drill_report_contacts_audit_and_action_items_in_chinese(sqlite_url: str) -> None:
    clock = ManualClock(T0)
    policy = Policy.model_validate(
        {
            "language": "zh",
            "external_contacts": [{"name": "云服务商支持", "phone": "+86 400 000 0000", "note": "企业支持"}],
        }
    )
    with Harness(sqlite_url, policy=policy, clock=clock) as h:
        for user in (h.alice, h.bob):
            h.emulator.users[user].locale = "zh-CN"
        shown: dict[str, str] = {}
        shown["contacts"] = _answer(h, "contacts", h.alice)
        shown["report"] = _answer(h, "report", h.alice)
        shown["drill"] = _answer(h, "drill p2 结算演练", h.alice)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.channel_id
        room = incident.channel_id
        clock.advance(timedelta(minutes=3))
        for command in (
            "确认",
            "action 增加连接数告警 @U0BOB",
            "action done 1",
            "review done",
            "audit",
            "解决",
        ):
            shown[command] = _answer(h, command, h.bob, room)
            h.wait_idle()
        assert "云服务商支持" in shown["contacts"] and "+86 400 000 0000" in shown["contacts"]
        assert "事件报表" in shown["report"] and "演练不计入" in shown["report"]
        assert "演练 INC-1" in shown["drill"]
        assert "当前为已确认；复盘在解决之后进行" in shown["review done"]
        assert "已上传审计记录" in shown["audit"]
        room_text = "\n".join(
            blocks_to_text(m.get("blocks"), m.get("text")) for m in h.emulator.messages(room)
        )
        assert "演练报告" in room_text and "响应步骤" in room_text
        assert "INC-1 的审计记录" in room_text
        assert "故障复盘草稿 v1" in room_text
        with h.runtime.session() as session:  # the drill report's timeline row, stored in English
            [posted] = [e for e in timeline.events(session, incident.id, {"note"}) if e.actor == "warroom"]
            assert posted.text == "Drill report posted"
            with use_language("zh"):
                assert timeline.event_text(posted.kind, posted.text, posted.data) == "已发布演练报告"
        for name, text in [*shown.items(), ("room", room_text)]:
            leaks = english_runs(text)
            assert not leaks, f"English in the zh {name}: {leaks}\n{text}"
        # the draft itself: Warroom's rows in Chinese, the action item as typed
        [draft] = [f for f in h.emulator.uploaded_files(room) if f.name.endswith(".md")]
        body = draft.content.decode("utf-8")
        part = body.split("## 时间线 (UTC)")[1].split("## 诊断记录")[0]
        assert (
            "行动项 1：增加连接数告警（负责人 @U0BOB）" in part and "行动项 1 已完成：增加连接数告警" in part
        )
        assert "已确认；升级已停止" in part
        assert not english_runs(part.replace("Warroom", "")), part


def test_the_review_reminder_dm_speaks_the_commanders_slack_language(sqlite_url: str) -> None:
    """English workspace, Bob's Slack in Chinese: Bob's reminder is Chinese, the room stays English."""
    from bot.postmortem import reminders

    clock = ManualClock(T0)
    with Harness(sqlite_url, clock=clock) as h:
        h.emulator.users[h.bob].locale = "zh-CN"
        incident = h.declare("p2 Checkout returns 502")
        room = incident.channel_id
        assert room
        for command in ("ack", "resolve"):
            clock.advance(timedelta(minutes=3))
            h.reply(h.command(command, user=h.bob, channel=room), timeout=15)
            h.wait_idle()
        clock.advance(timedelta(days=3))
        assert reminders.tick(h.runtime) == 1
        [dm] = [m.get("text", "") for m in h.emulator.dms(h.bob) if "复盘" in m.get("text", "")]
        assert "的故障复盘今天到期" in dm and "`/incident review done`" in dm, dm
        assert not english_runs(dm.replace("Checkout returns 502", "")), dm
        room_text = " ".join(m.get("text", "") for m in h.emulator.messages(room))
        assert "resolved INC-1" in room_text


def test_cli_verbs_help_in_chinese(tmp_path: Path) -> None:
    """`warroom report|rehearse|postmortem|audit|manifest --help` follow the policy's language."""
    policy = tmp_path / "policy.yml"
    policy.write_text("language: zh\n")
    env = {**os.environ, "WARROOM_CONFIG": str(policy), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    expected = {
        "report": "统计结束时间",
        "rehearse": "在模拟时钟上演练一次宣布",
        "postmortem": "打印已保存的第 N 版草稿",
        "audit": "输出格式（默认 csv）",
        "manifest": "机器人的公网基础 URL",
    }
    for verb, words in expected.items():
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", verb, "--help"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert words in result.stdout, result.stdout
    # and the postmortem CLI's own notes: an unknown incident in Chinese
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "postmortem", "INC-x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "不是事件" in result.stderr, result.stderr


def test_every_row_warroom_writes_in_a_lifecycle_reads_in_chinese(sqlite_url: str) -> None:
    """An English workspace's incident, its timeline read by a Chinese reader (the zh postmortem,
    `/incident timeline` for a zh-CN person): Warroom's own rows are Chinese; typed text as typed."""
    clock = ManualClock(T0)
    with Harness(sqlite_url, clock=clock) as h:
        h.reply(h.command("p1 Checkout down", user=h.alice), timeout=15)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.channel_id
        for command in ("ack", "sev p2", "mitigated", "action Do it @U0BOB", "action done 1", "resolve",
                        "reopen", "resolve", "postmortem", "review done"):  # fmt: skip
            clock.advance(timedelta(minutes=20))
            h.reply(h.command(command, user=h.bob, channel=incident.channel_id), timeout=15)
            h.wait_idle()
        with h.runtime.session() as session, use_language("zh"):
            rows = [
                (e.kind, timeline.event_text(e.kind, e.text, e.data))
                for e in timeline.events(session, incident.id)
                if e.kind not in ("role", "note", "status_update")  # role keys and typed text stay
            ]
    shown = "\n".join(text.replace("Checkout down", "").replace("Do it", "") for _kind, text in rows)
    assert not english_runs(shown), shown
    assert "已重新打开" in shown and "已确认；升级已停止" in shown and "影响已止损" in shown
