"""Shared pieces of the alerts tests: policies, documented payloads, a plain HTTP poster, readers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from bot.alerts import timers
from bot.alerts.models import AlertEvent, AlertGroup
from bot.config.loader import load_policy_text
from bot.config.policy import Policy
from bot.incidents.models import Incident, TimelineEvent
from bot.runtime import Runtime
from tests.harness import Harness

ONCALL = "U0ONCALL"
ANNOUNCE = "C0ANNOUNCE"


def token_env() -> tuple[str, str]:
    """A variable name and a token of this test's own (xdist workers share nothing)."""
    return f"WARROOM_T_{uuid.uuid4().hex[:8].upper()}", f"tok-{uuid.uuid4().hex}"


def policy_text(
    env: str, *, routes: str | None = None, extra: str = "", announce: bool = True, alerts_extra: str = ""
) -> str:
    routes = (
        routes
        or """
    - match: {severity: critical}
      severity: p1
      declare: auto
    - match: {severity: warning}
      severity: p3
      declare: propose
      confirm_within: 2m
    - match_re: {alertname: "Watchdog|InfoInhibitor"}
      declare: ignore
"""
    )
    return f"""
escalation:
  tiers:
    - name: tier1
      targets: [{ONCALL}]
      timeout: 15m
{"announce_channel: " + ANNOUNCE if announce else ""}
alerts:
  sources:
    - name: prometheus
      kind: alertmanager
      token_env: {env}
    - name: grafana
      kind: grafana
      token_env: {env}
    - name: pd
      kind: events-v2
      token_env: {env}
    - name: aws
      kind: cloudwatch
  routes:{routes}
{alerts_extra}
{extra}
"""


def policy(env: str, **kwargs: Any) -> Policy:
    return load_policy_text(policy_text(env, **kwargs))


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


def post(base_url: str, source: str, payload: Any, token: str | None, *, raw: bytes | None = None) -> Answer:
    data = raw if raw is not None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{base_url}/alerts/{source}", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return Answer(reply.status, json.loads(reply.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {"raw": body.decode(errors="replace")}
        return Answer(exc.code, parsed)


def am_alert(
    name: str,
    status: str = "firing",
    *,
    severity: str = "critical",
    fingerprint: str | None = None,
    starts: str = "2026-12-03T03:00:00Z",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One alert as Alertmanager's webhook v4 carries it."""
    all_labels = {"alertname": name, "severity": severity, "service": "checkout", **(labels or {})}
    return {
        "status": status,
        "labels": all_labels,
        "annotations": annotations
        or {"summary": f"{name} on checkout", "description": "5xx ratio above 5% for 5m"},
        "startsAt": starts,
        "endsAt": "2026-12-03T04:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29",
        "fingerprint": fingerprint
        or uuid.uuid5(uuid.NAMESPACE_OID, json.dumps(all_labels, sort_keys=True)).hex[:16],
    }


def am_webhook(
    alerts: list[dict[str, Any]], group: str = "checkout", *, status: str | None = None
) -> dict[str, Any]:
    """Alertmanager webhook v4 (docs: prometheus.io/docs/alerting/latest/configuration/#webhook_config)."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "warroom",
        "groupLabels": {"alertname": group},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def pd_event(
    action: str,
    dedup_key: str | None,
    routing_key: str,
    *,
    summary: str = "Disk full on db-1",
    severity: str = "critical",
    timestamp: str = "2026-12-03T03:00:00Z",
) -> dict[str, Any]:
    """PagerDuty Events API v2 (developer.pagerduty.com/docs/events-api-v2/trigger-events)."""
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action}
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    if action == "trigger":
        event["payload"] = {
            "summary": summary,
            "source": "db-1.prod",
            "severity": severity,
            "timestamp": timestamp,
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "custom_details": {"free space": "1%", "ping time": "1500ms"},
        }
        event["links"] = [{"href": "https://monitoring.example.com/db-1", "text": "Disk dashboard"}]
        event["client"] = "Sample Monitoring Service"
        event["client_url"] = "https://monitoring.example.com"
    return event


# ---------------------------------------------------------------------------------------------- reading
def groups(runtime: Runtime) -> list[AlertGroup]:
    with runtime.session() as session:
        return list(session.scalars(select(AlertGroup).order_by(AlertGroup.id)))


def event_count(runtime: Runtime) -> int:
    with runtime.session() as session:
        return len(list(session.scalars(select(AlertEvent.id))))


def incidents(runtime: Runtime) -> list[Incident]:
    with runtime.session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def timeline(runtime: Runtime, incident_id: int, kind: str | None = None) -> list[TimelineEvent]:
    with runtime.session() as session:
        query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
        if kind:
            query = query.where(TimelineEvent.kind == kind)
        return list(session.scalars(query.order_by(TimelineEvent.id)))


def all_text(message: dict[str, Any]) -> str:
    """The text a person sees in a message: its text and every text in its blocks."""
    return message.get("text", "") + "\n" + json.dumps(message.get("blocks") or [], ensure_ascii=False)


T = TypeVar("T")


def wait_ticking(h: Harness, predicate: Callable[[], T], timeout: float = 15) -> T:
    """Poll `predicate`, running the alerts tick between polls as the scheduler does every second
    (the harness runs no scheduler): what waits for a room's set-up — a fold, a resolution notice, a
    storm's listing — is told on a later tick, as in production."""

    def ticked() -> T:
        timers.tick(h.runtime)
        return predicate()

    return h.emulator.wait_for(ticked, timeout=timeout, interval=0.5)
