"""Thin Bolt listeners: parse the request, call `bot`, render the answer. One module per command family."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime

# Sub-command modules register their /incident verbs on import (`@subcommand`), in this order: the
# order `/incident help` lists them in. The listener modules each have register(app, runtime).
from handlers import (  # noqa: F401  (verbs register on import)
    actions,
    alerts,
    diag,
    drills,
    events,
    incident_router,
    lifecycle,
    modals,
    notes,
    overview,
    paging,
    postmortem,
    remediate,
    reports,
    security,
)

LISTENERS = (incident_router, actions, events, modals, diag, remediate, alerts)


def register_all(app: App, runtime: Runtime) -> None:
    for module in LISTENERS:
        module.register(app, runtime)
