"""`warroom doctor` checks every alert source's token variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.alerts.helpers import policy_text, token_env


def test_doctor_names_the_missing_token_variable(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    present, value = token_env()
    missing, _ = token_env()
    monkeypatch.setenv(present, value)
    monkeypatch.delenv(missing, raising=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    text = policy_text(present).replace(
        f"    - name: pd\n      kind: events-v2\n      token_env: {present}",
        f"    - name: pd\n      kind: events-v2\n      token_env: {missing}",
    )
    config = tmp_path / "policy.yml"
    config.write_text(text)
    code = main(["doctor", "--timeout", "2", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 1
    assert "✓  alerts prometheus" in out and f"{present} is set" in out
    lines = out.splitlines()
    [bad] = [i for i, line in enumerate(lines) if line.startswith("✗  alerts pd")]
    assert missing in lines[bad] and f"export {missing}=" in lines[bad + 1]
    assert "alerts aws" in out and "SNS signature" in out
    assert value not in out


def test_doctor_wants_an_announce_channel_for_proposals(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env, value = token_env()
    monkeypatch.setenv(env, value)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    config = tmp_path / "policy.yml"
    config.write_text(policy_text(env, announce=False))
    assert main(["doctor", "--timeout", "2", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "✗  alerts routes" in out and "announce_channel" in out
