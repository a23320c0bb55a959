"""The adapter registry: drives the `/diag` grammar and its help."""

from __future__ import annotations

from dataclasses import replace

from bot.diagnostics import (
    aws,
    dns,
    docker,
    docker_access,
    docker_disk,
    http,
    k8s,
    mysql,
    ping,
    prom,
    redis,
    tcp,
    tls,
)
from bot.diagnostics.base import Adapter, Check

# Registry order is help order. Adapters import their client libraries inside their checks,
# so listing them here loads no driver at start-up.
_ADAPTERS: dict[str, Adapter] = {
    module.ADAPTER.name: module.ADAPTER
    for module in (k8s, docker, mysql, redis, http, dns, tcp, ping, tls, aws, prom)
}


# Checks kept in modules of their own (size limit) join their adapter here.
_ADAPTERS["docker"] = replace(
    docker.ADAPTER,
    checks={**docker.ADAPTER.checks, "df": docker_disk.CHECK, "suspicious": docker_access.CHECK},
)


def adapters() -> dict[str, Adapter]:
    return dict(_ADAPTERS)


def get(name: str) -> Adapter | None:
    return adapters().get(name)


def _check_line(adapter: Adapter, check: Check) -> str:
    target = " [target]" if adapter.target_kind else ""
    usage = f" {check.usage}" if check.usage else ""
    default = " _(default)_" if check.name == adapter.default_check else ""
    guide = f"  ← `{check.guide}`" if check.guide else ""
    return f"• `/diag {adapter.name}{target} {check.name}{usage}` — {check.summary}{default}{guide}"


def adapter_help(adapter: Adapter, targets: list[str] | None = None) -> str:
    lines = [f"*/diag {adapter.name}* — {adapter.summary}"]
    lines += [_check_line(adapter, check) for check in adapter.checks.values()]
    if adapter.target_kind:
        known = (
            ", ".join(targets) if targets else f"none yet — add `targets.{adapter.target_kind}` to the YAML"
        )
        lines.append(f"Targets: {known}")
    return "\n".join(lines)


def overview_help() -> str:
    lines = [
        "*/diag* — read-only runbook diagnostics. Form: `/diag <adapter> [target] <check> [args] [key=value…]`",
        "• `/diag triage <service>` — the guide's “service unavailable” checklist in parallel, one card",
    ]
    for adapter in adapters().values():
        checks = ", ".join(adapter.checks)
        lines.append(f"• `/diag {adapter.name}` — {adapter.summary} ({checks})")
    lines.append("`/diag help <adapter>` lists an adapter's checks and targets.")
    return "\n".join(lines)
