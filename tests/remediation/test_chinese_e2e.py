"""`/remediate` with `language: zh`: help, the preview and its buttons, refusals, the settled result and
the Kubernetes change itself, through the real app, the Slack emulator and the Kubernetes API stand-in.
The audit log keeps its machine values (outcomes, reasons) and the words people were shown."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from bot.i18n import set_default_language
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.remediation.conftest import CAROL, DAVE, SRE_GROUP, Bot, make_policy
from tests.support.k8s_api import FakeKubeAPI


@pytest.fixture(scope="module")
def bot(kube: FakeKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("remediate-zh")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    base = make_policy(kube.write_kubeconfig(tmp / "kubeconfig"), "http://127.0.0.1:9")  # AWS unused here
    policy = Policy.model_validate({**base.model_dump(mode="json", exclude_unset=True), "language": "zh"})
    try:
        with Harness(url, policy=policy, clock=ManualClock()) as h:
            h.emulator.add_user("dave", id=DAVE)
            h.emulator.add_usergroup("sre", users=[DAVE], id=SRE_GROUP)
            yield Bot(h, ManualClock(), kube, "")
    finally:
        set_default_language("en")  # the process default is global: leave it as other tests expect


def _text(message: dict[str, Any]) -> str:
    return blocks_to_text(message.get("blocks"), message.get("text"))


def _settled(bot: Bot, preview: dict[str, Any]) -> str:
    """The preview once updated to its final state (no buttons, not "正在执行…")."""

    def done() -> str | None:
        now = bot.message(preview["ts"])
        text = _text(now)
        buttons = any(b.get("block_id") == "remediate_actions" for b in now.get("blocks") or [])
        return text if not buttons and "正在执行…" not in text else None

    return str(bot.wait(done, timeout=30))


def test_help_is_chinese(bot: Bot) -> None:
    text = html.unescape(bot.ask("help"))
    assert "*/remediate* — 对基础设施的变更，每一项都先预览，再由有修复权限的人确认：" in text
    assert "`/remediate k8s scale <deployment> <replicas> [ns=<namespace>]` — 设置副本数" in text
    assert "确认按钮只能用一次，有效期 5 分钟；只有 `roles.remediators` 中的人可以按下。" in text


def test_preview_refusal_and_result_are_chinese(bot: Bot) -> None:
    since = bot.last_audit_id()
    preview = bot.remediate("k8s scale ecommerce-app 4")
    text = _text(preview)
    assert "扩缩容 Deployment ecommerce/ecommerce-app" in text and "*将要更改*" in text
    assert "确认按钮只能用一次，有效期至" in text and "可以确认的人：" in text
    assert "命名空间" in text and "副本数" in text  # fact and change names, translated where shown
    buttons = next(b for b in preview["blocks"] if b.get("block_id") == "remediate_actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["确认", "取消"]
    seen = bot.private_count(bot.h.bob)
    bot.click(preview, bot.h.bob)
    refusal = bot.private(bot.h.bob, seen)
    assert "⛔ *不允许*: 你不能确认它：你没有修复权限" in refusal and "发起人（<@" in refusal
    bot.click(preview, CAROL)
    settled = _settled(bot, preview)
    assert "*已完成*：已将 Deployment ecommerce/ecommerce-app 扩缩容到 4 个副本。由 @U0CAROL 确认" in settled
    deployment = next(d for d in bot.kube.deployments if d["metadata"]["name"] == "ecommerce-app")
    assert deployment["spec"]["replicas"] == 4  # the change itself happened
    rows = bot.audit(since)
    # Outcomes and reasons stay machine values; the texts are what people read, in the workspace's language.
    assert [r.outcome for r in rows] == ["requested", "refused", "confirmed", "ok"]
    assert rows[1].data["reason"] == "not_allowed"


def test_bounds_and_engine_refusals_are_chinese(bot: Bot) -> None:
    answer = bot.ask("k8s scale ecommerce-app 50")
    assert "⛔ *超出范围*: 50 个副本超出范围：`k8s scale` 只能设置 1 到 6 个副本" in answer
    assert "没有做任何更改。" in answer
    missing = bot.ask("mysql orders kill 987654321")
    assert "PROCESSLIST 中没有连接 987654321" in missing
    usage = html.unescape(bot.ask("k8s scale"))
    assert "缺少参数。请输入 `/remediate k8s prod scale <deployment> <replicas>" in usage
