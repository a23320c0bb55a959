"""The policy file: SPEC keys accepted as written, the guide's defaults, one clear message for bad files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import PolicyError, load_policy, load_policy_text
from bot.config.policy import Policy

SPEC_EXAMPLE = """
severities:
  p0: {response: 15m}
escalation:
  repeat: 0
  tiers:
    - name: tier1
      targets: [U01ONCALL]
      timeout: 15m
    - name: tier2
      targets: [U02LEAD]
      timeout: 30m
    - name: tier3
      targets: [U03DIRECTOR]
      timeout: 1h
rotations:
  primary: {users: [U01, U04], handoff: "mon 10:00", timezone: Asia/Shanghai, every: 1w}
announce_channel: C0ANNOUNCE
language: zh
services:
  checkout: {k8s: prod, namespace: ecommerce, deployment: ecommerce-app, health_url: "http://api/health", database: orders, cache: cache}
targets:
  k8s:    {prod: {kubeconfig: ~/.kube/config, context: prod, namespaces: [ecommerce]}}
  docker: {local: {url: unix:///var/run/docker.sock}}
  mysql:  {orders: {url: "mysql+pymysql://diag@mysql:3306/"}}
  redis:  {cache: {url: "redis://redis:6379/0"}}
  aws:    {main: {region: us-east-1}}
roles:
  remediators: [U01ONCALL, S0SREGROUP]
"""


def test_spec_keys_are_accepted_as_written() -> None:
    policy = load_policy_text(SPEC_EXAMPLE)
    assert [t.timeout for t in policy.escalation.tiers] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
    ]
    assert policy.rotations["primary"].timezone == "Asia/Shanghai"
    assert policy.targets.mysql["orders"].url.startswith("mysql+pymysql://")
    assert policy.roles.remediators == ["U01ONCALL", "S0SREGROUP"]
    assert policy.language == "zh"


def test_defaults_are_the_guides() -> None:
    policy = load_policy(None)
    assert [policy.severity(k).response for k in ("p0", "p1", "p2", "p3")] == [
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(days=1),
    ]
    assert policy.severity("p0").label == "紧急 critical"
    assert [t.timeout for t in policy.escalation.tiers] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
    ]
    assert policy.postmortem.review_within == timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "path", "line", "words"),
    [
        (
            "escalation:\n  tiers:\n    - name: t1\n      timeout: soon\n",
            "escalation.tiers.0.timeout",
            4,
            "invalid duration 'soon'",
        ),
        ("escalaton:\n  repeat: 1\n", "escalaton", 1, "unknown key"),
        ("language: fr\n", "language", 1, "'en' or 'zh'"),
        (
            "rotations:\n  primary: {users: [U1X], timezone: Mars/Olympus}\n",
            "rotations.primary.timezone",
            2,
            "unknown time zone",
        ),
        (
            "escalation:\n  tiers:\n    - {name: t1, targets: [bob], timeout: 1m}\n",
            "escalation.tiers.0.targets",
            3,
            "invalid target 'bob'",
        ),
        ("escalation: [1, 2\n", "(file)", 1, "not valid YAML"),
        (
            "alerts:\n  routes:\n    - match: {severity: warning}\n      severity: p3\n"
            "      declare: propose\n      confirm_within: 0s\n",
            "alerts.routes.0.confirm_within",
            6,
            "longer than 0s",
        ),
        (
            "remediation:\n  bounds:\n    prune_until: 0s\n",
            "remediation.bounds.prune_until",
            3,
            "longer than 0s",
        ),
    ],
)
def test_bad_file_names_file_key_line_and_problem(
    tmp_path, text: str, path: str, line: int, words: str
) -> None:
    file = tmp_path / "policy.yml"
    file.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(file)
    message = str(caught.value)
    assert str(file) in message and path in message and words in message
    assert any(p == path and (ln == line or path == "(file)") for p, ln, _ in caught.value.problems), (
        caught.value.problems
    )


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(PolicyError, match="cannot read it"):
        load_policy(tmp_path / "nope.yml")


def test_bad_policy_stops_warroom_run_with_one_message(tmp_path) -> None:
    import subprocess
    import sys

    file = tmp_path / "policy.yml"
    file.write_text("escalation:\n  tiers:\n    - {name: t1, timeout: soon}\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env={
            "WARROOM_CONFIG": str(file),
            "PATH": "/usr/bin:/bin",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "escalation.tiers.0.timeout (line 3): invalid duration 'soon'" in result.stderr


def test_a_snapshot_of_a_duration_that_is_not_one_unit_parses_again() -> None:
    """A policy with 90s or 1h30m-worth durations is snapshotted per incident as "1m 30s": it must load back."""
    policy = Policy.model_validate(
        {"remediation": {"bounds": {"rollout_watch": "90s"}}, "postmortem": {"review_within": "5400s"}}
    )
    again = Policy.model_validate(policy.model_dump(mode="json"))
    assert again.remediation.bounds.rollout_watch.total_seconds() == 90
    assert again.postmortem.review_within.total_seconds() == 5400
