"""`warroom doctor` as an operator runs it: the ✓/✗ table on stdout, the fix under each ✗, the exit code.

Each kind of bad configuration gets its own test; the good configuration is checked against real
parts: the Slack emulator (auth.test and its X-OAuth-Scopes header), SQLite, the machine's MariaDB
and Redis, and the Kubernetes API stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from devkit.slack_emulator import SlackEmulator
from tests.support.k8s_api import FakeKubeAPI

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_SCOPES = yaml.safe_load((ROOT / "manifest.yml").read_text())["oauth_config"]["scopes"]["bot"]
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # test-only
CLOSED_PORT = 1  # nothing listens on tcpmux

GOOD_POLICY = """\
escalation:
  tiers:
    - name: tier1
      targets: [U0BOB]
      timeout: 15m
"""


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(scopes=MANIFEST_SCOPES) as emulator:
        emulator.add_user("bob", id="U0BOB")  # the policy pages him: the contact check looks him up
        yield emulator


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, slack: SlackEmulator, sqlite_url: str) -> dict[str, str]:
    """A correct environment; each test breaks one thing."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "WARROOM_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    values = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": sqlite_url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def write(tmp_path: Path, text: str, name: str = "policy.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def doctor(capsys: pytest.CaptureFixture[str], config: str | None, *extra: str) -> tuple[int, str]:
    argv = ["doctor", "--timeout", "3", *extra]
    if config is not None:
        argv += ["--config", config]
    code = main(argv)
    return code, capsys.readouterr().out


def row(out: str, status: str, name: str, about: str = "") -> str:
    """The table's line for check `name` with `status` (and mentioning `about`), plus its fix line."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{status}  {name}") and about in line:
            fix = lines[i + 1] if i + 1 < len(lines) and "fix:" in lines[i + 1] else ""
            return line + "\n" + fix
    raise AssertionError(f"no {status} row for {name!r} in:\n{out}")


# ------------------------------------------------------------------------------------------- good
def test_a_good_deployment_passes_every_check(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeKubeAPI() as kube:
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        config = write(
            tmp_path,
            GOOD_POLICY
            + f"""\
targets:
  k8s: {{prod: {{kubeconfig: {kubeconfig}, context: test, namespaces: [ecommerce]}}}}
  mysql: {{orders: {{url: "mysql+pymysql://root@127.0.0.1:3306/"}}}}
  redis: {{cache: {{url: "redis://127.0.0.1:6379/0"}}}}
""",
        )
        code, out = doctor(capsys, config)
    assert code == 0, out
    assert "✗" not in out
    for name in ("policy", "SLACK_BOT_TOKEN", "mode", "database", "slack auth", "slack scopes", "contacts"):
        assert row(out, "✓", name)
    assert "all 20 bot scopes" in row(out, "✓", "slack scopes") or "bot scopes of manifest.yml granted" in out
    for target in ("k8s prod", "mysql orders", "redis cache"):
        assert "reachable" in row(out, "✓", target)
    assert out.rstrip().endswith("All checks passed.")
    assert env["SLACK_BOT_TOKEN"] not in out and SIGNING_SECRET not in out


# ----------------------------------------------------------------------------------- policy file
def test_a_bad_duration_names_the_key_and_line_and_exits_non_zero(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, GOOD_POLICY.replace("timeout: 15m", "timeout: soon"))
    code, out = doctor(capsys, config)
    assert code == 1
    line = row(out, "✗", "policy")
    assert "escalation.tiers.0.timeout (line 5)" in line
    assert "invalid duration 'soon'" in line
    assert f"fix: edit line 5 of {config}" in line and "15m" in line
    assert "targets" in out and "fix the policy file first" in out
    assert out.rstrip().endswith("1 problem found.")


def test_the_real_command_exits_non_zero_on_timeout_soon(env: dict[str, str], tmp_path: Path) -> None:
    """The issue's acceptance check, through the console entry point in a fresh process."""
    config = write(tmp_path, GOOD_POLICY.replace("timeout: 15m", "timeout: soon"))
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", "--timeout", "3"],
        env={**os.environ, "WARROOM_CONFIG": config},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "escalation.tiers.0.timeout" in done.stdout


def test_every_problem_of_the_file_is_listed_at_once(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, GOOD_POLICY + "languages: en\npostmortem: {review_within: soon}\n")
    code, out = doctor(capsys, config)
    assert code == 1
    assert "docs/configuration.md" in row(out, "✗", "policy", about="languages (line 6): unknown key")
    assert "invalid duration" in row(out, "✗", "policy", about="postmortem.review_within (line 7)")


def test_broken_yaml_is_reported_with_its_line(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "escalation:\n  tiers: [\n    {name: tier1\n")
    code, out = doctor(capsys, config)
    assert code == 1
    line = row(out, "✗", "policy")
    assert "(file)" in line and "not valid YAML" in line and "(line " in line
    assert "fix the YAML syntax" in line


def test_a_missing_policy_file(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, str(tmp_path / "nope.yml"))
    assert code == 1
    assert "cannot read it" in row(out, "✗", "policy")
    assert "WARROOM_CONFIG" in row(out, "✗", "policy")


def test_a_ladder_that_pages_nobody(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "announce_channel: C0INCIDENTS\n")
    code, out = doctor(capsys, config)
    assert code == 1
    line = row(out, "✗", "escalation")
    assert "nobody would ever be paged" in line and "escalation.tiers.0.targets" in line


def test_a_service_naming_an_unknown_target(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, GOOD_POLICY + "services:\n  checkout: {database: orders}\n")
    code, out = doctor(capsys, config)
    assert code == 1
    line = row(out, "✗", "services")
    assert "services.checkout.database names mysql target 'orders'" in line
    assert "add targets.mysql.orders" in line


# ----------------------------------------------------------------------------------- environment
def test_missing_bot_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    assert "export SLACK_BOT_TOKEN=xoxb-" in row(out, "✗", "SLACK_BOT_TOKEN")
    assert row(out, "–", "slack auth")


def test_missing_signing_secret_in_http_mode(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    assert "Socket Mode" in row(out, "✗", "SLACK_SIGNING_SECRET")


def test_an_app_token_that_is_not_xapp(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-pasted-into-the-wrong-variable")
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    assert "connections:write" in row(out, "✗", "SLACK_APP_TOKEN")
    assert "xoxb-pasted-into-the-wrong-variable" not in out


def test_an_unreachable_database(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql+psycopg://warroom:hunter2secret@127.0.0.1:{CLOSED_PORT}/warroom"
    )
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    line = row(out, "✗", "database")
    assert "127.0.0.1:1" in line and "check DATABASE_URL" in line
    assert "hunter2secret" not in out


# ----------------------------------------------------------------------------------------- Slack
def test_a_revoked_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-000000000000-revoked-token")
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    line = row(out, "✗", "slack auth")
    assert "auth.test answered invalid_auth" in line and "copy the Bot User OAuth Token again" in line


def test_a_token_missing_manifest_scopes(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    granted = [s for s in MANIFEST_SCOPES if s not in ("pins:write", "chat:write.public")]
    with SlackEmulator(scopes=granted) as narrow:
        monkeypatch.setenv("SLACK_BOT_TOKEN", narrow.bot_token)
        monkeypatch.setenv("SLACK_API_URL", narrow.api_url)
        code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    line = row(out, "✗", "slack scopes")
    assert "lacks 2 scopes of manifest.yml: chat:write.public, pins:write" in line
    assert "reinstall" in line


def test_slack_unreachable(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{CLOSED_PORT}/api/")
    code, out = doctor(capsys, write(tmp_path, GOOD_POLICY))
    assert code == 1
    assert "allow outbound HTTPS to slack.com" in row(out, "✗", "slack auth")


# --------------------------------------------------------------------------------------- targets
def test_unreachable_and_forbidden_targets(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeKubeAPI() as kube:
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        config = write(
            tmp_path,
            GOOD_POLICY
            + f"""\
targets:
  k8s: {{locked: {{kubeconfig: {kubeconfig}, context: test, namespaces: [kube-system]}}}}
  redis: {{cache: {{url: "redis://:s3cretpass@127.0.0.1:{CLOSED_PORT}/0"}}}}
""",
        )
        code, out = doctor(capsys, config)
    assert code == 1
    forbidden = row(out, "✗", "k8s locked")
    assert "403" in forbidden and "RBAC" in forbidden
    refused = row(out, "✗", "redis cache")
    assert "error" in refused and "fix:" in refused
    assert "s3cretpass" not in out
