"""`/diag triage <service>`: the guide's “service unavailable” checklist, all steps in parallel.

服务不可用 → 检查服务状态 (pods / containers), 查看服务日志 (error lines), 验证网络连通性 (health
URL), 依赖服务故障 → 检查数据库/Redis连接. Which steps run depends on what `services.<name>` names in
the YAML; each step is an ordinary check through the runner, so it has its own timeout and
masking, and the whole triage is bounded by `diagnostics.triage_timeout`.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field

from bot.config.policy import Policy, Service
from bot.diagnostics import registry, runner
from bot.diagnostics.base import CheckResult, Finding, Level, Outcome, UsageError, worst
from bot.i18n import N_, _

GRACE_SECONDS = 0.3


@dataclass(frozen=True)
class Step:
    label: str  # marked N_, translated where shown: _(step.label)
    adapter: str
    check: str
    target: str | None = None
    args: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        parts = [self.adapter, *([self.target] if self.target else []), self.check, *self.args]
        return " ".join(parts + [f"{k}={v}" for k, v in self.options])


@dataclass
class TriageStep:
    step: Step
    result: CheckResult


@dataclass
class TriageResult:
    service: str
    steps: list[TriageStep]
    skipped: list[str]  # what the service's YAML does not configure, or what this bot cannot run
    elapsed_ms: float
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.findings:
            self.findings = [
                Finding(f.level, _("{step}: {finding}", step=_(s.step.label), finding=f.message), f.fix)
                for s in self.steps
                for f in s.result.findings
            ]

    @property
    def command(self) -> str:
        return f"triage {self.service}"

    @property
    def outcome(self) -> Outcome:
        return Outcome(worst(f.level for f in self.findings).value)

    @property
    def detail(self) -> str:
        parts = []
        for item in self.steps:
            result = item.result
            head = "== " + _(
                "{step}: /diag {command} → {outcome} ({ms} ms)",
                step=_(item.step.label),
                command=item.step.command,
                outcome=_(result.outcome.label),
                ms=f"{result.elapsed_ms:.0f}",
            )
            parts.append(f"{head}\n{result.detail or result.error or ''}".rstrip())
        return "\n\n".join(parts)


def plan(policy: Policy, name: str) -> tuple[list[Step], list[str]]:
    """The steps for one service, in the guide's order, and what is skipped and why."""
    service: Service = policy.services[name]
    steps: list[Step] = []
    skipped: list[str] = []
    if service.k8s and service.deployment:
        ns = (("ns", service.namespace),) if service.namespace else ()
        # The service's own pods and events: another deployment crash-looping beside it is not its finding.
        own = (("deployment", service.deployment), *ns)
        steps += [
            Step(N_("Pods"), "k8s", "pods", service.k8s, (), own),
            Step(N_("Events"), "k8s", "events", service.k8s, (), own),
            Step(
                N_("Error lines"),
                "k8s",
                "logs",
                service.k8s,
                (f"deployment/{service.deployment}",),
                (("tail", "100"), ("grep", "error"), *ns),
            ),
        ]
    if service.docker and service.container:
        steps += [
            Step(N_("Container"), "docker", "inspect", service.docker, (service.container,)),
            Step(
                N_("Container errors"),
                "docker",
                "logs",
                service.docker,
                (service.container,),
                (("tail", "100"), ("grep", "error")),
            ),
        ]
    if not steps:
        skipped.append(_("pods, events and logs (set `k8s` + `deployment` or `docker` + `container`)"))
    if service.health_url:
        steps.append(Step(N_("Health URL"), "http", "get", None, (service.health_url,)))
    else:
        skipped.append(_("health URL (set `health_url`)"))
    if service.database:
        steps += [
            Step(N_("Database"), "mysql", "connections", service.database),
            Step(N_("Long queries"), "mysql", "processlist", service.database),
        ]
    else:
        skipped.append(_("database (set `database`)"))
    if service.cache:
        steps.append(Step(N_("Cache"), "redis", "status", service.cache))
    else:
        skipped.append(_("cache (set `cache`)"))
    return _runnable(steps, skipped)


def _runnable(steps: list[Step], skipped: list[str]) -> tuple[list[Step], list[str]]:
    """Drop steps whose adapter or check this installation lacks, and options the check does not take."""
    kept = []
    for step in steps:
        adapter = registry.get(step.adapter)
        check = adapter.checks.get(step.check) if adapter else None
        if adapter is None or check is None:
            skipped.append(
                _(
                    "{step} (`{command}` is not available)",
                    step=_(step.label).lower(),
                    command=f"{step.adapter} {step.check}",
                )
            )
            continue
        if check.options is not None:
            step = Step(
                step.label,
                step.adapter,
                step.check,
                step.target,
                step.args,
                tuple((k, v) for k, v in step.options if k in check.options),
            )
        kept.append(step)
    return kept, skipped


def _failed(step: Step, outcome: Outcome, reason: str, elapsed_ms: float) -> CheckResult:
    return CheckResult(
        adapter=step.adapter,
        target=step.target,
        check=step.check,
        args=list(step.args),
        outcome=outcome,
        findings=[Finding(Level.CRIT, reason)],
        detail="",
        elapsed_ms=elapsed_ms,
        error=reason,
    )


def run(policy: Policy, name: str) -> TriageResult:
    steps, skipped = plan(policy, name)
    total = policy.diagnostics.triage_timeout.total_seconds()
    per_check = min(policy.diagnostics.timeout.total_seconds(), total)
    started = time.monotonic()
    results: dict[int, CheckResult] = {}

    def work(index: int, step: Step) -> None:
        try:
            results[index] = runner.run_check(
                policy,
                step.adapter,
                step.check,
                step.target,
                list(step.args),
                dict(step.options),
                timeout=per_check,
            )
        except UsageError as exc:  # a YAML value the check rejects, e.g. an invalid deployment name
            results[index] = _failed(step, Outcome.ERROR, _("Misconfigured: {error}", error=exc), 0.0)

    # Each thread runs in a copy of the caller's context: the language in force reaches the findings.
    threads = [
        threading.Thread(
            target=contextvars.copy_context().run, args=(work, i, s), daemon=True, name=f"triage-{i}"
        )
        for i, s in enumerate(steps)
    ]
    for thread in threads:
        thread.start()
    # Each check stops itself at per_check ≤ total; the grace lets those own timeouts report first.
    deadline = started + total + GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    done = [
        TriageStep(
            step,
            results.get(i)
            or _failed(
                step,
                Outcome.TIMEOUT,
                _("timed out after {limit} (the triage's limit)", limit=runner.format_seconds(total)),
                elapsed_ms,
            ),
        )
        for i, step in enumerate(steps)
    ]
    return TriageResult(service=name, steps=done, skipped=skipped, elapsed_ms=elapsed_ms)
