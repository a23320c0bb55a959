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
from bot.i18n import _

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
    default = " _" + _("(default)") + "_" if check.name == adapter.default_check else ""
    guide = f"  ← `{check.guide}`" if check.guide else ""
    return f"• `/diag {adapter.name}{target} {check.name}{usage}` — {_(check.summary)}{default}{guide}"


def adapter_help(adapter: Adapter, targets: list[str] | None = None) -> str:
    lines = [f"*/diag {adapter.name}* — {_(adapter.summary)}"]
    lines += [_check_line(adapter, check) for check in adapter.checks.values()]
    if adapter.target_kind:
        known = (
            ", ".join(targets)
            if targets
            else _("none yet — add `targets.{kind}` to the YAML", kind=adapter.target_kind)
        )
        lines.append(_("Targets: {known}", known=known))
    return "\n".join(lines)


def overview_help() -> str:
    lines = [
        _(
            "*/diag* — read-only runbook diagnostics. Form: `/diag <adapter> [target] <check> [args] [key=value…]`"
        ),
        _("• `/diag triage <service>` — the guide's “service unavailable” checklist in parallel, one card"),
    ]
    for adapter in adapters().values():
        checks = ", ".join(adapter.checks)
        lines.append(f"• `/diag {adapter.name}` — {_(adapter.summary)} ({checks})")
    lines.append(_("`/diag help <adapter>` lists an adapter's checks and targets."))
    return "\n".join(lines)
