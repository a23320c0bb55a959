"""Prometheus metrics: the warroom_ series served on GET /metrics.

Two kinds of numbers, on purpose:
- Events (incidents declared, pages sent/failed, page lateness, /diag runs, Slack API errors) are
  counted in the process where they happen. With several replicas each pod exports its own share and
  PromQL sums them: `sum(rate(warroom_pages_sent_total[5m]))`.
- State (incidents open by severity) is read from the database at scrape time, so every replica
  reports the same, correct number — a per-process gauge would drift as soon as a second replica
  resolves what the first one declared. Aggregate it with `max()`, not `sum()`.

The composition root calls `bind(runtime)` so the scrape-time collector can reach the database.
Other parts call the small `observe_*` helpers rather than touching label sets themselves.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot import health

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

SEVERITIES = ("p0", "p1", "p2", "p3")

# `_created` series double the output and no dashboard here uses them.
disable_created_metrics()

# Our own registry, not the library's global one: tests and the console build several apps per
# process, and only the metrics below (plus the process collectors) belong on /metrics.
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

INCIDENTS_DECLARED = Counter(
    "warroom_incidents_declared",
    "Incidents declared, by their severity at declaration.",
    ["severity"],
    registry=REGISTRY,
)
PAGES_SENT = Counter(
    "warroom_pages_sent",
    "Page deliveries that succeeded, by channel (slack, sms, email, webhook).",
    ["channel"],
    registry=REGISTRY,
)
PAGES_FAILED = Counter(
    "warroom_pages_failed",
    "Page delivery attempts that failed, by channel; a failed attempt is retried unless hopeless.",
    ["channel"],
    registry=REGISTRY,
)
# The spec's promise is "within 1 s of its due time": the buckets are dense around that second.
PAGE_LATENESS = Histogram(
    "warroom_page_lateness_seconds",
    "Seconds between a page's due time and its Slack delivery.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0),
    registry=REGISTRY,
)
# Response times per severity (drills never observed): the guide's clock is minutes to days.
RESPONSE_SECONDS = Histogram(
    "warroom_response_seconds",
    "Seconds from declaration to acknowledge / mitigate / resolve, by severity at that moment.",
    ["severity", "step"],
    buckets=(60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200),
    registry=REGISTRY,
)
DIAG_RUNS = Counter(
    "warroom_diag_runs",
    "/diag runs, by adapter (k8s, mysql, …, triage) and outcome (ok, warn, crit, error, timeout, refused).",
    ["adapter", "outcome"],
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "warroom_slack_api_errors",
    "Slack Web API calls that failed after the retry handlers, by method and Slack error code.",
    ["method", "error"],
    registry=REGISTRY,
)
COLLECT_ERRORS = Counter(
    "warroom_metrics_collect_errors",
    "Scrapes whose database-backed metrics could not be read (the database was unreachable).",
    registry=REGISTRY,
)

# Zero-valued series from the start, so rate() and alerts see the series before the first event.
for _severity in SEVERITIES:
    INCIDENTS_DECLARED.labels(_severity)
for _channel in ("slack", "sms", "email", "webhook"):
    PAGES_SENT.labels(_channel)
    PAGES_FAILED.labels(_channel)


# --------------------------------------------------------------------------------- recording helpers
def observe_declared(severity: str) -> None:
    INCIDENTS_DECLARED.labels(severity.lower()).inc()


RESPONSE_STEPS = {"acknowledged": "acknowledge", "mitigated": "mitigate", "resolved": "resolve"}


def observe_response(change: str, severity: str, declared_at: datetime, at: datetime | None) -> None:
    """A lifecycle change that ends a response step (ack, mitigate, resolve); others are ignored."""
    step = RESPONSE_STEPS.get(change)
    if step is not None and at is not None:
        RESPONSE_SECONDS.labels(severity.lower(), step).observe(max(0.0, (at - declared_at).total_seconds()))


def observe_slack_error(method: str, error: str) -> None:
    SLACK_API_ERRORS.labels(method, error).inc()


def observe_diag(adapter: str, outcome: object) -> None:
    """One finished /diag run; `outcome` is the runner's Outcome enum or its string value."""
    DIAG_RUNS.labels(adapter or "unknown", str(getattr(outcome, "value", outcome))).inc()


def observe_page(
    results: Mapping[str, Mapping[str, Any]], due_at: datetime | None = None, kind: str = "page"
) -> None:
    """The delivery results of one outbox row: {channel: {"ok": bool, "at": iso time, ...}}.

    A channel invite is not a page and a notice to the incident channel is not paging anyone:
    neither is counted. Lateness is measured on the Slack DM, the page every person gets.
    """
    if kind != "page":
        return
    for channel, result in results.items():
        if channel == "invite":
            continue
        (PAGES_SENT if result.get("ok") else PAGES_FAILED).labels(channel).inc()
    slack = results.get("slack")
    if due_at is not None and slack and slack.get("ok") and slack.get("at"):
        delivered = datetime.fromisoformat(str(slack["at"]))
        if (delivered.tzinfo is None) == (due_at.tzinfo is None):
            PAGE_LATENESS.observe(max(0.0, (delivered - due_at).total_seconds()))


# ------------------------------------------------------------------------- state read at scrape time
_runtime: weakref.ref[Runtime] | None = None
_open_counts: Callable[[Runtime], Mapping[str, int]] | None = None


def bind(runtime: Runtime, open_counts: Callable[[Runtime], Mapping[str, int]]) -> None:
    """Let scrapes count open incidents, by severity, with `open_counts(runtime)`.

    A weak reference: a closed runtime is not kept alive. The counting is passed in so that this
    module knows no tables.
    """
    global _runtime, _open_counts
    _runtime, _open_counts = weakref.ref(runtime), open_counts


def bound_runtime() -> Runtime | None:
    return _runtime() if _runtime is not None else None


def _open_by_severity(runtime: Runtime) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    if _open_counts is not None:
        counts.update(_open_counts(runtime))
    return counts


class StateCollector(Collector):
    """Database-backed gauges plus the scheduler's heartbeat, computed on each scrape."""

    def collect(self) -> Iterable[Metric]:
        runtime = bound_runtime()
        if runtime is not None:
            try:
                counts = _open_by_severity(runtime)
            except Exception:  # an unreachable database must not turn /metrics into a 500
                log.warning("metrics: could not count open incidents", exc_info=True)
                COLLECT_ERRORS.inc()
            else:
                gauge = GaugeMetricFamily(
                    "warroom_incidents_open",
                    "Incidents not yet resolved, by current severity (from the database: same on every replica).",
                    labels=["severity"],
                )
                for severity, count in sorted(counts.items()):
                    gauge.add_metric([severity], count)
                yield gauge
        age = _scheduler_tick_age()
        if age is not None:
            yield GaugeMetricFamily(
                "warroom_scheduler_last_tick_age_seconds",
                "Seconds since this process's escalation tick last completed.",
                value=age,
            )

    def describe(self) -> Iterable[Metric]:
        return []  # dynamic: nothing to check for name clashes at registration


def _scheduler_tick_age() -> float | None:
    last = health.last_run("escalation")
    return None if last is None else max(0.0, time.monotonic() - last)


REGISTRY.register(StateCollector())


def render_metrics() -> tuple[bytes, str]:
    """The body and Content-Type of GET /metrics (Prometheus text format 0.0.4)."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
