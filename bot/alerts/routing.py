"""Routes: the first whose matchers all hold gives severity and what to do (auto | propose | ignore).

Regular expressions are anchored at both ends, as Alertmanager's are, and compiled once per policy.
The policy caps their length; label values are capped at the door (bot.alerts.normalize), which
bounds the work of one match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.config.alerts import AlertRoute, AlertsConfig


@dataclass(frozen=True)
class Decision:
    route: int | None  # index into alerts.routes; None: no route matched
    severity: str | None
    mode: str  # auto | propose | ignore | unmatched
    auto_resolve: bool = False


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern})")


def matches(route: AlertRoute, source: str, labels: dict[str, str]) -> bool:
    if route.source is not None and route.source != source:
        return False
    if any(labels.get(key) != value for key, value in route.match.items()):
        return False
    return all(_compiled(pattern).fullmatch(labels.get(key, "")) for key, pattern in route.match_re.items())


def decide(config: AlertsConfig, source: str, labels: dict[str, str]) -> Decision:
    for position, route in enumerate(config.routes):
        if matches(route, source, labels):
            return Decision(position, route.severity, route.declare, route.auto_resolve)
    return Decision(None, None, "unmatched")
