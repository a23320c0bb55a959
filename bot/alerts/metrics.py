"""Alert metrics on the warroom registry: what arrived, from whom, and what became of it."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from bot.metrics import REGISTRY

RECEIVED = Counter(
    "warroom_alerts_received",
    "Alert deliveries (HTTP requests) by source and outcome: accepted, duplicate, unauthorized, invalid, too_large.",
    ["source", "status"],
    registry=REGISTRY,
)
ALERTS = Counter(
    "warroom_alerts_stored",
    "Alerts stored from deliveries (one delivery may carry many), by source and action (trigger, resolve, acknowledge).",
    ["source", "action"],
    registry=REGISTRY,
)
GROUPS = Counter(
    "warroom_alert_groups",
    "What new alert groups became, by source and outcome (declared, proposed, ignored, unmatched, stormed).",
    ["source", "outcome"],
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "warroom_alerts_ingest_seconds",
    "Seconds from a delivery's arrival to its 2xx (parse, authenticate, commit).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)


def received(source: str, status: str) -> None:
    RECEIVED.labels(source, status).inc()


def stored(source: str, action: str, count: int = 1) -> None:
    ALERTS.labels(source, action).inc(count)


def group_outcome(source: str, outcome: str) -> None:
    GROUPS.labels(source, outcome).inc()
