"""PagerDuty Events API v2: routing_key, event_action trigger|acknowledge|resolve, dedup_key, payload.

Answers as PagerDuty does — 202 {"status": "success", "message": "Event processed", "dedup_key": …} —
so any tool that can page PagerDuty can page Warroom by changing the URL.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.alerts.kinds import Parsed
from bot.alerts.normalize import Alert, PayloadError, clean_map, clean_text, clean_url, digest, title_of

ACTIONS = {"trigger": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}
SEVERITIES = ("critical", "error", "warning", "info")


def routing_key(body: Any) -> str | None:
    return (
        body.get("routing_key")
        if isinstance(body, dict) and isinstance(body.get("routing_key"), str)
        else None
    )


def parse(body: Any) -> Parsed:
    if not isinstance(body, dict):
        raise PayloadError("expected a JSON object with routing_key, event_action and payload")
    action = body.get("event_action")
    if action not in ACTIONS:
        raise PayloadError("event_action must be trigger, acknowledge or resolve")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not dedup_key or len(dedup_key) > 255):
        raise PayloadError("dedup_key must be a string of at most 255 characters")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    payload = body.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict):
            raise PayloadError("a trigger needs payload with summary, source and severity")
        for required in ("summary", "source", "severity"):
            if not isinstance(payload.get(required), str) or not payload[required].strip():
                raise PayloadError(f"payload.{required} is required")
        if payload["severity"] not in SEVERITIES:
            raise PayloadError("payload.severity must be critical, error, warning or info")
        labels = clean_map(
            {k: payload[k] for k in ("severity", "source", "component", "group", "class") if payload.get(k)}
        )
        annotations = {"summary": clean_text(payload["summary"], 1024)}
        details = payload.get("custom_details")
        if details is not None:
            annotations["details"] = clean_text(
                details if isinstance(details, str) else json.dumps(details, sort_keys=True)
            )
        for link in body.get("links") or []:
            if isinstance(link, dict):
                url = clean_url(link.get("href"))
                if url:
                    links.append((clean_text(link.get("text") or "Link", 80), url))
        dedup_key = dedup_key or uuid.uuid4().hex  # PagerDuty makes one up and returns it, so do we
    elif not dedup_key:
        raise PayloadError(f"dedup_key is required to {action}")
    assert isinstance(dedup_key, str)
    canonical = json.dumps({"payload": payload, "links": body.get("links")}, sort_keys=True, default=str)
    alert = Alert(
        group_key=dedup_key,
        fingerprint=dedup_key,
        action=ACTIONS[action],
        labels=labels,
        annotations=annotations,
        title=title_of(labels, annotations, "Alert"),
        summary=annotations.get("details", ""),
        starts_at=clean_text(payload.get("timestamp"), 64)
        if isinstance(payload, dict) and payload.get("timestamp")
        else None,
        generator_url=clean_url(body.get("client_url")),
        links=links,
        identity=(digest(canonical),),
    )
    return Parsed(
        alerts=[alert],
        status=202,
        body={"status": "success", "message": "Event processed", "dedup_key": dedup_key},
    )
