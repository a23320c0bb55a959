"""The runner: timeouts reported as such, failures as one line, output masked, every run timed."""

from __future__ import annotations

import time

import pytest

from bot.config.policy import Policy
from bot.diagnostics import registry, runner
from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    CheckRefused,
    Level,
    Outcome,
    Report,
)


def _sleepy(ctx: CheckContext) -> Report:
    time.sleep(float(ctx.args[0]))
    return Report()


def _leaky(ctx: CheckContext) -> Report:
    report = Report(detail="\x1b[32mstarting\x1b[0m with DB_PASSWORD=hunter2", data={"password": "hunter2"})
    report.warn("token AKIAIOSFODNN7EXAMPLE seen", "rotate it")
    return report


def _broken(ctx: CheckContext) -> Report:
    raise RuntimeError("driver exploded\nwith a traceback-ish second line")


def _failed(ctx: CheckContext) -> Report:
    raise CheckFailed("Can't reach the thing", "Fix the thing")


def _refused(ctx: CheckContext) -> Report:
    raise CheckRefused("not allowed")


@pytest.fixture(autouse=True)
def fake_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = {
        name: Check(name, func, name)
        for name, func in {
            "sleepy": _sleepy,
            "leaky": _leaky,
            "broken": _broken,
            "failed": _failed,
            "refused": _refused,
        }.items()
    }
    adapter = Adapter("fake", "test adapter", checks, default_check="leaky")
    monkeypatch.setitem(registry._ADAPTERS, "fake", adapter)


def test_a_slow_check_times_out_at_the_configured_limit() -> None:
    policy = Policy.model_validate({"diagnostics": {"timeout": "1s"}})
    started = time.monotonic()
    result = runner.run_check(policy, "fake", "sleepy", args=["5"])
    assert time.monotonic() - started < 1.5
    assert result.outcome is Outcome.TIMEOUT and result.error == "timed out after 1 s"


def test_default_timeout_is_ten_seconds() -> None:
    assert Policy().diagnostics.timeout.total_seconds() == 10
    assert runner.format_seconds(10) == "10 s"


def test_output_is_masked_and_ansi_free() -> None:
    result = runner.run_check(Policy(), "fake", "leaky")
    assert result.outcome is Outcome.WARN
    assert result.findings[0].message == "token ***** seen"
    assert result.detail == "starting with DB_PASSWORD=*****"
    assert result.data == {"password": "*****"}
    assert result.elapsed_ms >= 0


@pytest.mark.parametrize(
    ("check", "outcome", "message"),
    [
        ("broken", Outcome.ERROR, "Check failed: driver exploded with a traceback-ish second line"),
        ("failed", Outcome.ERROR, "Can't reach the thing"),
        ("refused", Outcome.REFUSED, "Refused: not allowed"),
    ],
)
def test_failures_become_outcomes(check: str, outcome: Outcome, message: str) -> None:
    result = runner.run_check(Policy(), "fake", check)
    assert result.outcome is outcome
    assert result.findings[0].level is Level.CRIT and result.findings[0].message == message
    assert "\n" not in (result.error or "")
