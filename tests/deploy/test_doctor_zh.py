"""`warroom doctor` with `language: zh`: the table, the problems and their fixes in Chinese;
check names that are keys or variables (SLACK_BOT_TOKEN, k8s prod) stay as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.test_doctor import GOOD_POLICY, doctor, env, row, slack, write  # noqa: F401 - fixtures

ZH_POLICY = "language: zh\n" + GOOD_POLICY


def test_a_good_deployment_is_told_in_chinese(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write(tmp_path, ZH_POLICY)
    code, out = doctor(capsys, config)
    assert code == 0, out
    assert row(out, "✓", "策略", f"{config}：有效")
    assert row(out, "✓", "SLACK_BOT_TOKEN", "已设置（xoxb-…）")
    assert row(out, "✓", "模式", "HTTP 模式：Slack 必须能访问端口")
    assert row(out, "✓", "数据库", "：可连接，表结构版本 ")
    assert "已在" in row(out, "✓", "Slack 认证") and "中认证为 @" in row(out, "✓", "Slack 认证")
    assert "个机器人权限均已授予" in row(out, "✓", "Slack 权限")
    assert row(out, "–", "目标", "未配置（策略文件中的 targets:）")
    assert out.rstrip().endswith("所有检查均已通过。")
    # No English sentence is left: at most two ASCII words in a row outside names, paths and URLs.
    prose = re.sub(r"\S*[/@.:=_]\S*|SLACK_\w+|HTTP|POST|Socket Mode|xoxb-…", "", out)
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", prose), out


def test_a_policy_problem_and_its_fix_are_told_in_chinese(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write(tmp_path, ZH_POLICY.replace("timeout: 15m", "timeout: soon"))
    code, out = doctor(capsys, config)
    assert code == 1
    line = row(out, "✗", "策略")
    # The key path stays as written in the file; the problem and the fix are Chinese.
    assert f"{config}：escalation.tiers.0.timeout（第 6 行）：无效的时长 'soon'：请写数字加单位" in line
    fix = out.splitlines()[out.splitlines().index(line.rstrip("\n")) + 1]
    assert fix.strip() == f"修复：修改 {config} 第 6 行：请写数字加单位，如 30s、15m、1h 或 1d"
    assert row(out, "–", "目标", "未检查：请先修正策略文件")
    assert out.rstrip().endswith("发现 1 个问题。")


def test_the_policy_error_of_a_chinese_file_is_chinese_wherever_it_is_shown(tmp_path: Path) -> None:
    from bot.config import PolicyError, load_policy

    path = write(tmp_path, ZH_POLICY + "escalaton: {}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.language == "zh" and caught.value.kinds == ["unknown_key"]
    assert str(caught.value).splitlines() == [
        f"{path}：策略文件中有 1 个问题",
        "  - escalaton（第 7 行）：未知的键；请对照 README 中的配置参考检查拼写",
    ]


def test_our_validators_speak_the_files_language_and_keep_keys_as_written() -> None:
    from bot.config import PolicyError
    from bot.config.loader import load_policy_text

    text = "language: zh\ncontacts:\n  U0BOB: {sms: '12345'}\nescalation:\n  tiers: [{name: t1, targets: [bob], timeout: 5m}]\n"
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, source="policy.yml")
    lines = str(caught.value).splitlines()
    assert lines[0] == "policy.yml：策略文件中有 2 个问题"
    assert (
        "  - contacts.U0BOB.sms（第 3 行）：无效的电话号码 '12345'：请用 E.164 格式，如 +8613800000000"
        in lines
    )
    assert any(
        line.startswith("  - escalation.tiers.0.targets（第 5 行）：无效的呼叫对象 'bob'：") for line in lines
    ), lines
    # The same file without `language:` is told in English.
    with pytest.raises(PolicyError) as english:
        load_policy_text(text.replace("language: zh\n", ""), source="policy.yml")
    assert "invalid phone number '12345': use E.164" in str(english.value)
