"""`warroom postmortem <incident>`: prints the stored draft, writes a file, renders fresh when asked."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.postmortem import cli, flows
from bot.runtime import Runtime
from tests.postmortem.helpers import ONCALL, at, realistic


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="warroom")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["postmortem", *argv])


@pytest.fixture
def drafted(runtime: Runtime) -> int:
    with runtime.session() as session:
        incident_id = realistic(session).id
    runtime.clock.set(at(151))  # type: ignore[attr-defined]
    flows.publish(runtime, incident_id, ONCALL)
    flows.publish(runtime, incident_id, ONCALL, language="zh")
    return incident_id


def test_prints_the_latest_stored_draft(
    drafted: int, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(f"INC-{drafted}")
    assert args.func is cli.run
    assert cli.run(args, Settings(database_url=sqlite_url)) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"# INC-{drafted} 故障复盘: Checkout returns 502")
    assert "草稿 v2" in out
    assert f"INC-{drafted} draft v2 (zh)" in err


def test_language_picks_the_latest_draft_in_it_and_out_writes_a_file(
    drafted: int, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "pm.md"
    assert (
        cli.run(
            _parse(str(drafted), "--language", "en", "--out", str(out_file)),
            Settings(database_url=sqlite_url),
        )
        == 0
    )
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith(f"# INC-{drafted} postmortem: Checkout returns 502") and "Draft v1," in text
    assert capsys.readouterr().out == ""


def test_fresh_renders_the_timeline_now_without_storing(
    drafted: int, sqlite_url: str, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.run(_parse(str(drafted), "--fresh", "--language", "en"), Settings(database_url=sqlite_url)) == 0
    )
    out, err = capsys.readouterr()
    assert "Draft v3," in out and "Postmortem draft v2 uploaded" in out
    assert "not stored" in err
    from bot.postmortem import service

    with runtime.session() as session:
        assert len(service.drafts(session, drafted)) == 2


def test_an_incident_without_drafts_is_rendered(
    runtime: Runtime, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with runtime.session() as session:
        incident_id = realistic(session, resolve=False).id
    assert cli.run(_parse(str(incident_id)), Settings(database_url=sqlite_url)) == 0
    assert "| Status | Mitigated |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["nope"], 2, "is not an incident"),
        (["999"], 1, "There is no incident INC-999"),
        (["1", "--draft", "7"], 1, "has no stored draft v7"),
    ],
)
def test_errors_go_to_stderr_with_an_exit_code(
    drafted: int,
    sqlite_url: str,
    argv: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.run(_parse(*argv), Settings(database_url=sqlite_url)) == code
    out, err = capsys.readouterr()
    assert out == "" and message in err
