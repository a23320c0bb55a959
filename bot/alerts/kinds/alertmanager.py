"""Alertmanager webhook v4 (also the base of Grafana's): groupKey, status, alerts[] with fingerprints."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from bot.alerts.kinds import Parsed
from bot.alerts.normalize import Alert, PayloadError, clean_map, clean_text, clean_url, digest, title_of

MAX_ALERTS = 500


def _silence_url(external_url: str | None, labels: dict[str, str]) -> str | None:
    """Alertmanager sends no silence link; its UI takes a matcher filter in the URL."""
    if not external_url:
        return None
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return clean_url(
        f"{external_url.rstrip('/')}/#/silences/new?filter=" + urllib.parse.quote("{" + matchers + "}")
    )


def parse_alerts(body: Any, *, grafana: bool = False) -> list[Alert]:
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise PayloadError("expected a webhook body with groupKey, status and alerts[]")
    group_key = body.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise PayloadError("groupKey is missing")
    external = clean_url(body.get("externalURL"))
    alerts = []
    for item in body["alerts"][:MAX_ALERTS]:
        if not isinstance(item, dict):
            raise PayloadError("every entry of alerts[] must be an object")
        labels = clean_map(item.get("labels"))
        annotations = clean_map(item.get("annotations"))
        status = item.get("status") or body.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"alert status must be firing or resolved, got {clean_text(status, 40)!r}")
        starts = clean_text(item.get("startsAt") or "", 64)
        fingerprint = clean_text(item.get("fingerprint") or "", 128) or digest(
            json.dumps(labels, sort_keys=True)
        )
        links = []
        for name, key in (("Dashboard", "dashboardURL"), ("Panel", "panelURL")):
            url = clean_url(item.get(key))
            if url:
                links.append((name, url))
        if grafana and item.get("valueString"):
            annotations.setdefault("value", clean_text(item["valueString"], 500))
        silence = clean_url(item.get("silenceURL")) if grafana else _silence_url(external, labels)
        action = "trigger" if status == "firing" else "resolve"
        alerts.append(
            Alert(
                group_key=group_key,
                fingerprint=fingerprint,
                action=action,
                labels=labels,
                annotations=annotations,
                title=title_of(labels, annotations, clean_text(body.get("title") or "Alert", 180)),
                summary=annotations.get("description") or annotations.get("summary") or "",
                starts_at=starts or None,
                generator_url=clean_url(item.get("generatorURL")),
                silence_url=silence,
                links=links,
                # A firing alert's endsAt moves with every evaluation; its startsAt names the firing.
                identity=(starts,)
                if action == "trigger"
                else (starts, clean_text(item.get("endsAt") or "", 64)),
            )
        )
    return alerts


def parse(body: Any) -> Parsed:
    return Parsed(alerts=parse_alerts(body))
