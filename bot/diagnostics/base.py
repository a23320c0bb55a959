"""The diagnostics contract: checks return findings (ok / warn / crit with the guide's fix) plus detail.

Every adapter module under bot/diagnostics/ builds one `Adapter` and registers it with
`bot.diagnostics.registry.register`. Checks are plain functions `(ctx: CheckContext) -> Report`;
the runner adds the timeout, timing, secret masking and error handling, so a check only
talks to its engine and turns numbers into findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.config.policy import Policy


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"

    @property
    def icon(self) -> str:
        return {"ok": "✅", "warn": "⚠️", "crit": "❌"}[self.value]

    @property
    def rank(self) -> int:
        return {"ok": 0, "warn": 1, "crit": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str
    fix: str | None = None  # the guide's suggested fix, shown beside warn/crit findings


@dataclass
class Report:
    """What a check hands back: findings first, then the detail (plain text, a table, log lines)."""

    findings: list[Finding] = field(default_factory=list)
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # structured figures, for tests and the timeline

    def ok(self, message: str) -> None:
        self.findings.append(Finding(Level.OK, message))

    def warn(self, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(Level.WARN, message, fix))

    def crit(self, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(Level.CRIT, message, fix))


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    ERROR = "error"  # the check could not run (connection refused, bad credentials, API error)
    TIMEOUT = "timeout"
    REFUSED = "refused"  # refused by our own safety rules before touching anything


@dataclass
class CheckResult:
    adapter: str
    target: str | None
    check: str
    args: list[str]
    outcome: Outcome
    findings: list[Finding]
    detail: str
    elapsed_ms: float
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        parts = [self.adapter, *([self.target] if self.target else []), self.check, *self.args]
        return " ".join(parts)


class UsageError(ValueError):
    """Bad `/diag` input; the message says what to type instead."""


class CheckRefused(Exception):
    """A safety rule refused the request (e.g. a metadata address); the message says why."""


@dataclass
class CheckContext:
    policy: Policy
    target_name: str | None
    target: Any  # the pydantic target model from policy.targets.<kind>[name], or None
    args: list[str]
    timeout: float
    options: dict[str, str] = field(default_factory=dict)  # key=value arguments, e.g. tail=100


CheckFunc = Callable[[CheckContext], Report]


@dataclass(frozen=True)
class Check:
    name: str
    func: CheckFunc
    summary: str  # one line for the help text
    usage: str = ""  # e.g. "<pod|deployment/name> [tail=100] [since=10m] [grep=error]"
    guide: str = ""  # the guide's command this mirrors, e.g. "kubectl get pods"


@dataclass(frozen=True)
class Adapter:
    name: str  # k8s, docker, mysql, redis, http, dns, tcp, tls, aws
    summary: str
    checks: dict[str, Check]
    default_check: str
    target_kind: str | None = None  # key under policy.targets, or None for adapters that take a host/URL
