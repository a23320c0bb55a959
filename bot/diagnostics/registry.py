"""The adapter registry: drives the `/diag` grammar and its help."""

from __future__ import annotations

import importlib

from bot.diagnostics.base import Adapter

_ADAPTERS: dict[str, Adapter] = {}

# One module per adapter; imported on first use so the bot starts without loading client libraries.
ADAPTER_MODULES = ("k8s", "docker", "mysql", "redis", "http", "dns", "tcp", "tls", "aws")


def register(adapter: Adapter) -> Adapter:
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
    return dict(_ADAPTERS)


def get(name: str) -> Adapter | None:
    return adapters().get(name)
