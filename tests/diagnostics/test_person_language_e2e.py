"""In an English workspace, a person whose Slack language is Chinese gets what only they see — an access
refusal, then `/diag help` and a mistake answered in the ack — in Chinese; others stay in English."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from bot.db import create_db_engine, migrate
from tests.diagnostics.conftest import make_policy
from tests.harness import Harness


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    url = f"sqlite:///{tmp_path_factory.mktemp('diag-locale') / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    policy = make_policy(diagnostics={"allow_users": ["U0NOBODY"], "rate_limit": {"per_minute": 10_000}})
    with Harness(url, policy=policy) as harness:
        harness.emulator.add_user("lin", id="U0LIN", locale="zh-CN")
        yield harness


def _answer(h: Harness, text: str, user: str, name: str = "/diag") -> str:
    response = h.command(text, user=user, channel=h.general, name=name)
    assert response.status == 200
    return html.unescape(h.reply(response, timeout=10))


def test_a_chinese_speaker_is_refused_and_helped_in_chinese(h: Harness) -> None:
    refusal = _answer(h, "mysql orders", "U0LIN")
    assert "🔒 你不能运行 `/diag`" in refusal and "`diagnostics.allow_users`" in refusal
    # The refusal asked Slack for lin's language; the ack-time answers now use it without asking again.
    assert "只读的运维手册诊断" in _answer(h, "help", "U0LIN")
    assert "未知的诊断 `nope`" in _answer(h, "nope", "U0LIN")
    assert "对基础设施的变更" in _answer(h, "help", "U0LIN", name="/remediate")


def test_others_keep_the_workspace_language(h: Harness) -> None:
    assert "🔒 You may not run `/diag`" in _answer(h, "mysql orders", h.alice)
    assert "read-only runbook diagnostics" in _answer(h, "help", h.alice)
