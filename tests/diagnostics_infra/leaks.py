"""Secret-leak assertions shared by the infrastructure adapter tests (k8s, docker, aws)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.diagnostics.base import CheckResult


def everything(result: CheckResult) -> str:
    """All a user (or the audit log) could see of a result: findings, fixes, detail, data, error, args."""
    parts = [result.detail, result.error or "", repr(result.data), " ".join(result.args)]
    for finding in result.findings:
        parts += [finding.message, finding.fix or ""]
    return "\n".join(parts)


def assert_no_secrets(result: CheckResult, secrets: Iterable[str]) -> None:
    text = everything(result)
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}… leaked into {result.command}"
