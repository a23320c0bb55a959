"""`/diag redis` against the machine's Redis: real clients vs maxclients, memory vs maxmemory, policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bot.config.policy import Policy
from bot.diagnostics import redis as redis_diag
from bot.diagnostics import runner
from bot.diagnostics.base import Level, Outcome, Report
from tests.diagnostics.conftest import make_policy

PREFIX = "warroom-diag-test:"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    yield conn
    for key in conn.scan_iter(f"{PREFIX}*"):
        conn.delete(key)
    conn.close()


def test_clients_against_the_real_maxclients(policy: Policy, client: redis.Redis) -> None:
    maxclients = int(client.config_get("maxclients")["maxclients"])
    extra = [redis.Redis.from_url("redis://127.0.0.1:6379/0") for _ in range(3)]
    for conn in extra:
        conn.ping()
    try:
        result = runner.run_check(policy, "redis", "clients", "cache")
    finally:
        for conn in extra:
            conn.close()
    assert result.outcome is Outcome.OK
    message = result.findings[0].message
    assert message.startswith("Clients ") and f"of maxclients {maxclients} (" in message
    assert result.data["connected_clients"] >= 4
    assert result.data["maxclients"] == maxclients


def test_memory_against_maxmemory_and_its_policy(policy: Policy, client: redis.Redis) -> None:
    before = client.config_get("maxmemory*")
    # 1 GiB is far above what the shared Redis uses, so other tests never feel it; restored below.
    client.config_set("maxmemory", str(1024**3))
    client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        result = runner.run_check(policy, "redis", "memory", "cache")
    finally:
        client.config_set("maxmemory", before["maxmemory"])
        client.config_set("maxmemory-policy", before["maxmemory-policy"])
    finding = result.findings[0]
    assert finding.level is Level.OK
    assert "of maxmemory 1.0 GiB" in finding.message and "policy allkeys-lru" in finding.message
    assert result.data["maxmemory_policy"] == "allkeys-lru"


def test_status_is_the_default_and_covers_everything(policy: Policy, client: redis.Redis) -> None:
    client.set(f"{PREFIX}k", "v", ex=60)
    from bot.diagnostics.grammar import parse

    command = parse(policy, "redis cache")
    assert command.check == "status"
    result = runner.run_check(policy, "redis", command.check, "cache")
    text = "\n".join(f.message for f in result.findings)
    assert "median" in text and "worst" in text and " ms of 5 PINGs" in text
    assert "of maxclients" in text
    assert "Memory " in text
    assert "evicted" in text and "Hit rate" in text
    assert "maxmemory_policy" in result.detail and "keyspace_hits" in result.detail


def test_no_maxmemory_warns_with_the_guides_config(client: redis.Redis) -> None:
    report = Report()
    redis_diag.evaluate_memory(
        report, {"used_memory": 10 * 1024**2, "maxmemory": 0, "maxmemory_policy": "noeviction"}
    )
    assert report.findings[0].level is Level.WARN
    assert "no maxmemory set" in report.findings[0].message
    assert "allkeys-lru" in (report.findings[0].fix or "")


@pytest.mark.parametrize(
    ("used", "policy_name", "level"),
    [
        (50, "allkeys-lru", Level.OK),
        (85, "allkeys-lru", Level.WARN),
        (92, "noeviction", Level.CRIT),
        (97, "allkeys-lru", Level.CRIT),
    ],
)
def test_memory_near_maxmemory(used: int, policy_name: str, level: Level) -> None:
    report = Report()
    redis_diag.evaluate_memory(
        report, {"used_memory": used * 1024**2, "maxmemory": 100 * 1024**2, "maxmemory_policy": policy_name}
    )
    assert report.findings[0].level is level
    assert f"({used} %)" in report.findings[0].message


@pytest.mark.parametrize(("connected", "level"), [(100, Level.OK), (8500, Level.WARN), (9900, Level.CRIT)])
def test_clients_near_maxclients(connected: int, level: Level) -> None:
    report = Report()
    redis_diag.evaluate_clients(
        report, {"connected_clients": connected, "maxclients": 10000, "rejected_connections": 0}
    )
    assert report.findings[0].level is level
    if level is not Level.OK:
        assert "client kill type normal" in (report.findings[0].fix or "")


def test_evictions_and_a_low_hit_rate_warn() -> None:
    report = Report()
    redis_diag.evaluate_stats(report, {"evicted_keys": 42, "keyspace_hits": 300, "keyspace_misses": 700})
    messages = [(f.level, f.message) for f in report.findings]
    assert (Level.WARN, "42 keys evicted since start: memory is full") in messages
    assert (Level.WARN, "Hit rate 30.0 % (300 hits / 1000 lookups)") in messages


def test_unreachable_redis_is_an_error(closed_port: int) -> None:
    policy = make_policy(targets={"redis": {"gone": {"url": f"redis://127.0.0.1:{closed_port}/0"}}})
    result = runner.run_check(policy, "redis", "ping", "gone")
    assert result.outcome is Outcome.ERROR
    assert "Can't connect to Redis" in result.findings[0].message
    assert "Connection refused" in result.findings[0].message
