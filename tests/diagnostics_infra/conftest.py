"""Shared checks for the infrastructure adapters (k8s, docker, aws) run against real engines."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from bot.diagnostics.base import CheckResult
from bot.security.redact import MASK


def everything(result: CheckResult) -> str:
    """All a user (or the audit log) could see of a result: findings, fixes, detail, data, error."""
    parts = [result.detail, result.error or "", repr(result.data), " ".join(result.args)]
    for finding in result.findings:
        parts += [finding.message, finding.fix or ""]
    return "\n".join(parts)


def assert_no_secrets(result: CheckResult, secrets: Iterable[str]) -> None:
    text = everything(result)
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}… leaked into {result.command}"


@pytest.fixture
def no_secrets() -> Callable[[CheckResult, Iterable[str]], None]:
    return assert_no_secrets


@pytest.fixture
def masked() -> str:
    return MASK
