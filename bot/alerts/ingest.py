"""POST /alerts/{source}: authenticate, parse, commit to the inbox, answer. Routing happens after.

Nothing else runs before the 2xx: the alert is committed (so the sender's retry covers a crash of
ours) and the answer goes back in milliseconds; the tick, nudged at once, applies it to its group.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.alerts import metrics
from bot.alerts.kinds import Parsed, alertmanager, cloudwatch, events_v2, grafana
from bot.alerts.kinds.sns import SignatureError
from bot.alerts.models import AlertEvent
from bot.alerts.normalize import Alert, PayloadError
from bot.config.alerts import AlertSource

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # SPEC §10: 1 MiB


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    stored: int = 0


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _expected_token(source: AlertSource) -> str | None:
    return os.environ.get(source.token_env) if source.token_env else None


def _same(given: str | None, expected: str | None) -> bool:
    # An unset variable never matches: a forgotten secret must not open the door.
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())  # type: ignore[union-attr]


def _parse(runtime: Runtime, source: AlertSource, headers: dict[str, str], data: Any) -> Parsed:
    if source.kind == "cloudwatch":
        return cloudwatch.parse(data, runtime.policy.alerts.sns_cert_host)
    if source.kind == "events-v2":
        return events_v2.parse(data)
    parsers: dict[str, Callable[[Any], Parsed]] = {
        "alertmanager": alertmanager.parse,
        "grafana": grafana.parse,
    }
    return parsers[source.kind](data)


def _authorized(source: AlertSource, headers: dict[str, str], data: Any) -> bool:
    if source.kind == "cloudwatch":
        # SNS cannot send headers: the signature (checked while parsing) is the proof.
        return True
    expected = _expected_token(source)
    if source.kind == "events-v2":
        return _same(events_v2.routing_key(data), expected) or _same(_bearer(headers), expected)
    return _same(_bearer(headers), expected)


def store(runtime: Runtime, source: str, alerts: list[Alert]) -> int:
    """Insert the alerts not seen before; returns how many were new. Committed when it returns.

    Core statements, no ORM session: this is the whole of the sender's wait. Keys already stored are
    found by a plain read first, because an INSERT that conflicts with a row the alerts tick is
    updating would wait for the tick's transaction; only the new keys are inserted (ON CONFLICT DO
    NOTHING still settles two identical deliveries racing each other).
    """
    if not alerts:
        return 0
    rows = {alert.dedupe_key(source): alert for alert in alerts}
    with runtime.engine.connect() as conn:
        known = set(
            conn.execute(select(AlertEvent.dedupe_key).where(AlertEvent.dedupe_key.in_(list(rows)))).scalars()
        )
    rows = {key: alert for key, alert in rows.items() if key not in known}
    if not rows:
        return 0
    now = runtime.clock.now()
    values = [
        dict(
            source=source,
            dedupe_key=key,
            group_hash=alert.group_hash(source),
            action=alert.action,
            alert=alert.as_json(),
            received_at=now,
        )
        for key, alert in rows.items()
    ]
    with runtime.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        statement = (
            insert(AlertEvent)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(AlertEvent.action)
        )
        new = [str(action) for action in conn.execute(statement).scalars()]
    for action in set(new):
        metrics.stored(source, action, new.count(action))
    return len(new)


def receive(runtime: Runtime, name: str, headers: dict[str, str], body: bytes) -> Reply:
    started = time.perf_counter()
    try:
        return _receive(runtime, name, headers, body)
    finally:
        metrics.INGEST_SECONDS.observe(time.perf_counter() - started)


def _receive(runtime: Runtime, name: str, headers: dict[str, str], body: bytes) -> Reply:
    source = runtime.policy.alerts.source(name)
    if source is None:
        return Reply(404, {"status": "error", "message": f"no alert source named {name[:64]!r}"})
    if len(body) > MAX_BODY:
        metrics.received(name, "too_large")
        return Reply(413, {"status": "error", "message": "body larger than 1 MiB"})
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    if not _authorized(source, headers, data):
        metrics.received(name, "unauthorized")
        return Reply(401, {"status": "error", "message": "missing or wrong token"})
    if data is None:
        metrics.received(name, "invalid")
        return Reply(400, {"status": "invalid event", "message": "the body is not JSON"})
    try:
        parsed = _parse(runtime, source, headers, data)
    except SignatureError as exc:
        metrics.received(name, "unauthorized")
        log.warning("alerts: SNS message refused: %s", exc, extra={"source": name})
        return Reply(401, {"status": "error", "message": "SNS signature could not be verified"})
    except PayloadError as exc:
        metrics.received(name, "invalid")
        return Reply(400, {"status": "invalid event", "message": str(exc), "errors": [str(exc)]})
    new = store(runtime, name, parsed.alerts)
    metrics.received(name, "accepted" if new or not parsed.alerts else "duplicate")
    return Reply(parsed.status, parsed.body, stored=new)
