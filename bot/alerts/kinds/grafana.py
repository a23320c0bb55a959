"""Grafana alerting's webhook contact point: Alertmanager's v4 shape plus silenceURL, dashboardURL, panelURL."""

from __future__ import annotations

from typing import Any

from bot.alerts.kinds import Parsed
from bot.alerts.kinds.alertmanager import parse_alerts


def parse(body: Any) -> Parsed:
    return Parsed(alerts=parse_alerts(body, grafana=True))
