"""`/diag docker` against a real Docker engine (scripts/start-dockerd.sh) and busybox containers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.config.policy import Policy
from bot.diagnostics.base import Level, Outcome, UsageError, clients
from bot.diagnostics.grammar import parse
from bot.diagnostics.runner import run_check
from bot.security.redact import MASK
from tests.diagnostics_infra.leaks import assert_no_secrets
from tests.support.docker_engine import (
    DB_PASSWORD,
    ENGINE_URL,
    SECRETS,
    TestContainers,
    engine_or_skip,
    start_fixture_containers,
)


@pytest.fixture(scope="module")
def box() -> Iterator[TestContainers]:
    client = engine_or_skip()
    yield from start_fixture_containers(client)
    client.close()


@pytest.fixture(scope="module")
def policy(box: TestContainers) -> Policy:
    return Policy.model_validate({"targets": {"docker": {"local": {"url": ENGINE_URL}}}})


def run(policy: Policy, check: str, *args: str, **options: str):
    return run_check(policy, "docker", check, "local", list(args), options, timeout=10)


def test_ps_flags_killed_and_unhealthy(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "ps")
    assert result.outcome is Outcome.CRIT
    killed = next(f for f in result.findings if box.name("killed") in f.message)
    assert killed.level is Level.CRIT and "exited with code 137" in killed.message
    assert "OOM" in killed.message and f"/remediate docker restart {box.name('killed')}" in killed.fix
    unhealthy = next(f for f in result.findings if box.name("unhealthy") in f.message)
    assert unhealthy.level is Level.CRIT and "unhealthy" in unhealthy.message
    assert not any(f.message.startswith(f"container {box.name('app')} ") for f in result.findings)
    assert re.search(rf"{box.name('app')}\s+warroom-busybox:test\s+running\s+Up", result.detail)
    assert re.search(rf"{box.name('killed')}\s+warroom-busybox:test\s+exited\s+Exited \(137\)", result.detail)


def test_logs_count_errors_and_mask_secrets(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "logs", box.name("app"), tail="100")
    assert result.outcome is Outcome.WARN
    assert "Too many connections" in result.detail  # stderr is read too
    errors = next(f for f in result.findings if "error lines" in f.message)
    assert "3 error lines in the last 7 lines" in errors.message  # two ERRORs and a 502
    assert "postgres://app:*****@db" in result.detail and "Bearer *****" in result.detail
    assert_no_secrets(result, SECRETS)


def test_logs_tail_and_grep(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "logs", box.name("app"), tail="2")
    assert result.data["lines"] == 2
    result = run(policy, "logs", box.name("app"), grep="ready")
    assert result.detail.splitlines()[1:] == ["INFO  ready"]
    assert result.findings[0].message.endswith("1 of the last 7 lines match `ready`")


def test_stats_one_shot(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "stats", box.name("app"))
    assert result.outcome is Outcome.OK
    assert result.data["memory_limit"] == 64 * 1024 * 1024
    assert 0 < result.data["memory_percent"] < 80
    assert result.data["cpu_percent"] is not None
    assert re.search(r"CPU %\s+MEM USAGE / LIMIT\s+MEM %", result.detail) and "64.0 MiB" in result.detail


def test_stats_of_stopped_container_says_so(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "stats", box.name("killed"))
    assert result.outcome is Outcome.WARN and "exited" in result.findings[0].message


def test_inspect_redacts_env(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "inspect", box.name("app"))
    assert f"DB_PASSWORD={MASK}" in result.detail and f"API_TOKEN={MASK}" in result.detail
    assert "APP_ENV=production" in result.detail  # harmless values stay readable
    assert f"DATABASE_URL=postgres://app:{MASK}@db" in result.detail
    assert re.search(r"Memory limit\s+64.0 MiB", result.detail)
    assert_no_secrets(result, SECRETS)


def test_inspect_killed_container(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "inspect", box.name("killed"))
    assert result.outcome is Outcome.CRIT
    assert "exited with code 137" in result.findings[0].message
    assert result.data["exit_code"] == 137


def test_df(policy: Policy, box: TestContainers) -> None:
    result = run(policy, "df")
    assert result.outcome is Outcome.OK
    for kind in ("Images", "Containers", "Local Volumes", "Build Cache"):
        assert kind in result.detail
    assert result.data["total_bytes"] > 0


def test_df_run_by_several_people_at_once_answers_everyone(policy: Policy, box: TestContainers) -> None:
    # The engine computes one disk usage at a time and answers a concurrent caller 409
    # ("a disk usage operation is already running"); each person still gets the figures.
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: run(policy, "df"), range(6)))
    assert [r.error for r in results if r.outcome is Outcome.ERROR] == []
    assert all(r.data["total_bytes"] > 0 for r in results)


@pytest.mark.parametrize("text", ["docker logs -rf", "docker logs ../etc", "docker inspect 'a b'",
                                  "docker logs app tail=0", "docker stats $(id)"])  # fmt: skip
def test_bad_container_names_are_refused(policy: Policy, text: str) -> None:
    with pytest.raises(UsageError):
        parse(policy, text)


def test_unknown_container_is_a_usage_error(policy: Policy) -> None:
    with pytest.raises(UsageError, match="No such container"):
        run(policy, "inspect", "warroom-test-does-not-exist")


def test_unreachable_engine_is_an_error() -> None:
    policy = Policy.model_validate(
        {"targets": {"docker": {"gone": {"url": "unix:///run/warroom-no-such.sock"}}}}
    )
    result = run_check(policy, "docker", "ps", "gone", [], {}, timeout=5)
    assert result.outcome is Outcome.ERROR and "Can't connect to the Docker engine" in result.error
    clients.clear()


def test_no_secret_in_any_check_output(policy: Policy, box: TestContainers) -> None:
    for check, args in [("ps", []), ("logs", [box.name("app")]), ("inspect", [box.name("app")]),
                        ("stats", [box.name("app")]), ("df", [])]:  # fmt: skip
        result = run(policy, check, *args)
        assert result.outcome is not Outcome.ERROR, result.error
        assert_no_secrets(result, SECRETS)
        assert DB_PASSWORD not in result.command
