"""`/diag triage <service>`: the guide's checklist in parallel, bounded in time, one card."""

from __future__ import annotations

import time

from bot.diagnostics import runner, triage
from bot.diagnostics.base import Level, Outcome
from bot.slack.blocks.diagnostics import render_triage
from tests.diagnostics.conftest import make_policy


def test_triage_runs_the_configured_steps(http_server: str) -> None:
    policy = make_policy(
        services={"checkout": {"health_url": f"{http_server}/down", "database": "orders", "cache": "cache"}}
    )
    result = triage.run(policy, "checkout")
    labels = [s.step.label for s in result.steps]
    assert labels == ["Health URL", "Database", "Long queries", "Cache"]
    assert result.outcome is Outcome.CRIT
    health = next(f for f in result.findings if f.message.startswith("Health URL: HTTP 502"))
    assert health.level is Level.CRIT and "重启服务" in (health.fix or "")
    assert any(f.message.startswith("Database: Connections ") for f in result.findings)
    assert any(f.message.startswith("Cache: PONG") for f in result.findings)
    assert any("pods, events and logs" in s for s in result.skipped)

    text, blocks = render_triage(result, actor="U0ALICE")
    card = str(blocks)
    assert "Triage checkout" in text
    assert "❌ Health URL" in card and "检查应用服务状态，重启服务" in card
    assert "✅ Database" in card or "⚠️ Database" in card
    assert len(blocks) <= 50


def test_triage_is_bounded_in_total_time(hanging_server: int) -> None:
    policy = make_policy(
        services={"api": {"health_url": f"http://127.0.0.1:{hanging_server}/health", "cache": "cache"}},
        diagnostics={"timeout": "10s", "triage_timeout": "1s"},
    )
    # The redis client's first import costs most of a second on a busy machine: not what is measured here.
    runner.run_check(policy, "redis", "ping", "cache")
    started = time.monotonic()
    result = triage.run(policy, "api")
    assert time.monotonic() - started < 1.6
    health = result.steps[0].result
    assert health.outcome is Outcome.TIMEOUT and health.error == "timed out after 1 s"
    assert result.steps[1].result.outcome in (Outcome.OK, Outcome.WARN)  # the cache answered in parallel


def test_unreachable_dependencies_are_failures_with_the_guides_fix() -> None:
    policy = make_policy(services={"reports": {"database": "reports"}})
    result = triage.run(policy, "reports")
    database = result.steps[0].result
    assert database.outcome is Outcome.ERROR
    assert "检查网络连接和数据库服务状态" in (database.findings[0].fix or "")


def test_the_plan_follows_the_guides_checklist() -> None:
    policy = make_policy(
        targets={
            "k8s": {"prod": {"namespaces": ["ecommerce"]}},
            "docker": {"local": {}},
            "mysql": {"orders": {"url": "mysql+pymysql://diag@mysql:3306/"}},
            "redis": {"cache": {"url": "redis://redis:6379/0"}},
        },
        services={
            "checkout": {
                "k8s": "prod",
                "namespace": "ecommerce",
                "deployment": "ecommerce-app",
                "docker": "local",
                "container": "ecommerce-app",
                "health_url": "http://api.shop.test/api/health",
                "database": "orders",
                "cache": "cache",
            }
        },
    )
    steps, skipped = triage.plan(policy, "checkout")
    assert [s.command for s in steps] == [
        "k8s prod pods deployment=ecommerce-app ns=ecommerce",
        "k8s prod events deployment=ecommerce-app ns=ecommerce",
        "k8s prod logs deployment/ecommerce-app tail=100 grep=error ns=ecommerce",
        "docker local inspect ecommerce-app",
        "docker local logs ecommerce-app tail=100 grep=error",
        "http get http://api.shop.test/api/health",
        "mysql orders connections",
        "mysql orders processlist",
        "redis cache status",
    ]
    assert skipped == []


def test_a_misconfigured_value_is_reported_not_raised() -> None:
    policy = make_policy(services={"api": {"health_url": "ftp://nope/"}})
    result = triage.run(policy, "api")
    step = result.steps[0].result
    assert step.outcome is Outcome.ERROR and step.findings[0].message.startswith("Misconfigured: ")
