"""`warroom console` under `language: zh`: its own words, and what the emulator recorded (the page DM)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import set_default_language
from devkit.console import DEMO_POLICY, Console


@pytest.fixture
def console(sqlite_url: str, tmp_path: Path) -> Iterator[Console]:
    policy = tmp_path / "policy.yml"
    policy.write_text("language: zh\n" + DEMO_POLICY.read_text())
    c = Console(sqlite_url, str(policy))
    try:
        yield c
    finally:
        c.close()
        set_default_language("en")  # the console set the process's language from the policy


def test_the_console_speaks_chinese_and_shows_the_page_dm_in_chinese(console: Console, capsys) -> None:  # type: ignore[no-untyped-def]
    console.handle(":help")
    help_text = capsys.readouterr().out
    assert help_text.startswith("像在 Slack 中一样输入斜杠命令：")
    assert "控制台命令：" in help_text and ":as <user>      以另一个人的身份操作" in help_text

    console.handle("/incident p1 支付回调超时")
    out = capsys.readouterr().out
    room = console.emu.get_channel(console.channel)
    assert room is not None and f"（你现在在 #{room.name}）" in out

    console.handle(":dms oncall")
    dms = capsys.readouterr().out
    # The page DM the emulator recorded, rendered by the console: header, fields and button in Chinese.
    assert "私信 → @oncall · @warroom" in dms
    assert ": 支付回调超时" in dms and "*级别*" in dms and "*作战室*" in dms
    assert "你作为 *tier1* 被呼叫：尚无人确认。" in dms
    assert "[确认](incident_ack)" in dms

    console.handle(":as nobody")
    assert capsys.readouterr().out.strip() == "未知的人 'nobody'。可选：you, oncall, lead, director"
    console.handle(":press 999")
    assert "按哪个按钮？" in capsys.readouterr().out
    console.handle(":frobnicate")
    assert capsys.readouterr().out.strip() == "未知的控制台命令 :frobnicate。:help 可列出所有命令。"
