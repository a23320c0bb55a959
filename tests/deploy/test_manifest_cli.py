"""`warroom manifest`: manifest.yml with the Request URLs filled in, or its Socket Mode variant."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCE = yaml.safe_load((ROOT / "manifest.yml").read_text())


def manifest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["manifest", *args])
    out, err = capsys.readouterr()
    return code, (yaml.safe_load(out) if code == 0 else {}), err


def urls(data: dict) -> list[str]:
    commands = [c.get("url") for c in data["features"]["slash_commands"]]
    settings = data["settings"]
    return [
        *commands,
        settings["event_subscriptions"].get("request_url"),
        settings["interactivity"].get("request_url"),
    ]


@pytest.mark.parametrize(
    "given", ["https://bot.example.org", "https://bot.example.org/", "https://bot.example.org/slack/events"]
)
def test_url_fills_every_request_url(capsys: pytest.CaptureFixture[str], given: str) -> None:
    code, data, _ = manifest(capsys, "--url", given)
    assert code == 0
    assert set(urls(data)) == {"https://bot.example.org/slack/events"}
    assert data["settings"]["socket_mode_enabled"] is False


def test_url_behind_a_path_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = manifest(capsys, "--url", "https://ops.example.org/warroom")
    assert code == 0 and set(urls(data)) == {"https://ops.example.org/warroom/slack/events"}


def test_everything_else_is_the_source_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    _, data, _ = manifest(capsys, "--url", "https://bot.example.org")
    assert data["oauth_config"] == SOURCE["oauth_config"]
    assert (
        data["settings"]["event_subscriptions"]["bot_events"]
        == SOURCE["settings"]["event_subscriptions"]["bot_events"]
    )
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/incident", "/diag", "/remediate"]


def test_socket_mode_variant_has_no_urls(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = manifest(capsys, "--socket-mode")
    assert code == 0
    assert data["settings"]["socket_mode_enabled"] is True
    assert urls(data) == [None] * len(urls(data))
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["oauth_config"] == SOURCE["oauth_config"]


def test_plain_http_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = manifest(capsys, "--url", "http://bot.example.org")
    assert code == 2 and "https://" in err


def test_source_manifest_documents_the_socket_mode_variant() -> None:
    text = (ROOT / "manifest.yml").read_text()
    assert "Socket Mode" in text and "socket_mode_enabled" in text
