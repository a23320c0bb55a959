"""The adapter registry: drives the `/diag` grammar and its help."""

from __future__ import annotations

import importlib

from bot.diagnostics.base import Adapter, Check

_ADAPTERS: dict[str, Adapter] = {}

# One module per adapter; imported on first use so the bot starts without loading client libraries.
ADAPTER_MODULES = ("k8s", "docker", "mysql", "redis", "http", "dns", "tcp", "tls", "aws")


def register(adapter: Adapter) -> Adapter:
    if adapter.default_check not in adapter.checks:
        raise ValueError(
            f"adapter {adapter.name}: default check {adapter.default_check!r} is not one of its checks"
        )
    _ADAPTERS[adapter.name] = adapter
    return adapter


def adapters() -> dict[str, Adapter]:
    for module in ADAPTER_MODULES:
        if module not in _ADAPTERS:
            try:
                importlib.import_module(f"bot.diagnostics.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"bot.diagnostics.{module}":
                    raise
    # Registry order, not import order, so the help always lists adapters the same way.
    order = {name: i for i, name in enumerate(ADAPTER_MODULES)}
    return dict(sorted(_ADAPTERS.items(), key=lambda item: order.get(item[0], len(order))))


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
