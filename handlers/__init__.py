"""Thin Bolt listeners: parse the request, call `bot`, render the answer. One module per command family."""

from __future__ import annotations

import importlib

from slack_bolt import App

from bot.runtime import Runtime

# Each module has register(app, runtime). Sub-command modules register /incident verbs on import.
LISTENER_MODULES = ("incident_router", "actions", "events", "modals", "diag", "remediate")
SUBCOMMAND_MODULES = ("lifecycle", "notes", "overview", "paging", "postmortem")


def _optional(name: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(f"handlers.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"handlers.{name}":
            raise
        return None


def register_all(app: App, runtime: Runtime) -> None:
    for name in SUBCOMMAND_MODULES:
        _optional(name)
    for name in LISTENER_MODULES:
        module = _optional(name)
        if module is not None and hasattr(module, "register"):
            module.register(app, runtime)
