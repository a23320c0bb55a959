"""Seeded fuzzing: random text at every `/incident` verb through signed requests, random bytes and
YAML at the policy loader. Never a 500, never an unhandled exception in the log, never a hang.

Seeded (derandomized) so a failure reproduces; hypothesis prints the shrunk example.
"""

from __future__ import annotations

import logging
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config.loader import PolicyError, load_policy_text
from bot.config.policy import SEVERITY_KEYS
from handlers.subcommands import SUBCOMMANDS
from tests.harness import Harness

HOSTILE = [
    "<!channel>", "<!here|here>", "<!everyone>", "<!subteam^S0OPS|@ops>", "<https://evil.example|click>",
    "<@U0BOB>", "<@U0BOB|bob>", "<#C0X|x>", "\x00", "\u202e", "\u2066", "\x1b[31m", "\x1b]0;t\x07", "\r",
    "&amp;", "&lt;", "<", ">", "*", "`", "```", "~", "_", "p1", "p9", "sev", "@lead", "tier1", "done", "1",
    "0", "-1", "99999999999999999999", "en", "zh", "postgresql://u:pw@h/db", "💥", "中文", " ", "  ", "\t",
    "x" * 200, "y" * 3100,
]  # fmt: skip
words = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=12))
args = st.lists(words, max_size=6).map(" ".join)
verbs = st.sampled_from(sorted({*SUBCOMMANDS, *SEVERITY_KEYS, "", "frobnicate", "P1", "ACK"}))


def test_random_text_at_every_incident_verb(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    with Harness(sqlite_url) as h:
        room = h.declare("p2 Fuzz target").channel_id
        statuses: list[int] = []

        @settings(
            max_examples=70,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(verb=verbs, rest=args, inside=st.booleans())
        def one(verb: str, rest: str, inside: bool) -> None:
            response = h.command(f"{verb} {rest}".strip(), channel=room if inside else h.general)
            statuses.append(response.status)
            assert response.status == 200, (verb, rest, response.body)
            assert response.elapsed < 3.0, (verb, rest)  # acked within Slack's 3 s

        started = time.monotonic()
        one()
        h.wait_idle(timeout=15)
        elapsed = time.monotonic() - started
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors][:3]
    assert len(statuses) >= 50
    assert elapsed < 60


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(["15m", "0s", "-1s", "1e400s", "U0BOB", "S0OPS", "rotation:x", "10.0.0.0/8", "not-a-cidr"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)  # fmt: skip
policy_keys = st.sampled_from(
    ["escalation", "severities", "rotations", "contacts", "paging", "announce_channel", "language", "roles",
     "incident_roles", "services", "targets", "diagnostics", "remediation", "postmortem", "escalation_policies"]
)  # fmt: skip


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(data=st.dictionaries(policy_keys, yaml_values, max_size=5))
def test_random_policies_are_accepted_or_refused_with_a_message(data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    started = time.perf_counter()
    try:
        load_policy_text(text, "fuzz.yml")
    except PolicyError as exc:
        assert str(exc).startswith("fuzz.yml: ")
    assert time.perf_counter() - started < 1.0


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(raw=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_random_bytes_are_refused_with_a_message(
    raw: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from bot.config.loader import load_policy

    path = tmp_path_factory.mktemp("fuzz") / "policy.yml"
    path.write_bytes(raw)
    started = time.perf_counter()
    try:
        load_policy(path)
    except PolicyError as exc:
        assert str(exc).startswith(str(path))
    assert time.perf_counter() - started < 1.0
