"""`/diag` end to end: signed slash commands over HTTP → Bolt → handler → real engines → Slack emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.db import create_db_engine, migrate
from bot.incidents.models import TimelineEvent
from devkit.slack_emulator import blocks_to_text
from tests.diagnostics.conftest import make_policy
from tests.harness import Harness


def _max_connections() -> int:
    conn = pymysql.connect(host="127.0.0.1", user="root", database="test")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW VARIABLES LIKE 'max_connections'")
            return int(cursor.fetchone()[1])
    finally:
        conn.close()


def _answer(h: Harness, channel: str, before: int) -> str:
    """The bot's answer once its "running…" message (the first after `before` messages) has been updated."""

    def done() -> dict[str, Any] | None:
        messages = h.emulator.messages(channel)
        ours = messages[before] if len(messages) > before else None
        return ours if ours and "Running `/diag" not in (ours.get("text") or "") else None

    message = h.emulator.wait_for(done, timeout=10)
    return blocks_to_text(message.get("blocks"), message.get("text"))


def _diag(h: Harness, text: str, channel: str | None = None) -> str:
    channel = channel or h.general
    before = len(h.emulator.messages(channel))
    response = h.command(text, name="/diag", channel=channel)
    assert response.status == 200
    return _answer(h, channel, before)


def _audit(h: Harness, since: int = 0) -> list[AuditEntry]:
    with h.runtime.session() as session:
        query = (
            select(AuditEntry)
            .where(AuditEntry.action == "diag", AuditEntry.id > since)
            .order_by(AuditEntry.id)
        )
        return list(session.scalars(query))


def _last_audit_id(h: Harness) -> int:
    entries = _audit(h)
    return entries[-1].id if entries else 0


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One bot for the module: stopping the harness's HTTP server costs seconds, so the tests share it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('diag-e2e') / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    with Harness(url, policy=make_policy()) as harness:
        yield harness


def test_mysql_connections_against_the_real_max(h: Harness) -> None:
    since, before = _last_audit_id(h), len(h.emulator.messages(h.general))
    h.emulator.reset_calls()
    started = time.monotonic()
    response = h.command("mysql orders", name="/diag")
    assert response.status == 200 and time.monotonic() - started < 3.0
    text = _answer(h, h.general, before)
    assert f"of max_connections {_max_connections()} (" in text
    assert "/diag mysql orders connections" in text
    assert len(h.emulator.calls_to("chat.postMessage")) == 1 and len(h.emulator.calls_to("chat.update")) == 1
    [entry] = _audit(h, since)
    assert (entry.actor, entry.channel_id, entry.target) == (h.alice, h.general, "mysql orders connections")


def test_unknown_target_is_answered_in_the_ack_and_runs_nothing(h: Harness) -> None:
    since = _last_audit_id(h)
    h.emulator.reset_calls()
    response = h.command("mysql x", name="/diag")
    assert response.status == 200
    assert h.reply(response, timeout=0.5) == "Unknown mysql target `x`. Known: `orders`, `reports`."
    h.wait_idle()
    assert h.emulator.calls_to("chat.postMessage") == [] and _audit(h, since) == []


def test_redis_http_tcp_and_metadata(h: Harness, http_server: str, closed_port: int) -> None:
    since = _last_audit_id(h)
    assert "of maxclients" in _diag(h, "redis cache")
    text = _diag(h, f"http {http_server}/health")
    assert "HTTP 200 OK" in text and "first byte" in text and " ms" in text
    assert f"127.0.0.1:{closed_port}: connection refused" in _diag(h, f"tcp 127.0.0.1 {closed_port}")
    assert "link-local / cloud metadata" in _diag(h, "http http://169.254.169.254/latest/meta-data/iam/")
    outcomes = [e.outcome for e in _audit(h, since)]
    assert outcomes[0] in ("ok", "warn") and outcomes[1:] == ["ok", "crit", "refused"]


def test_in_an_incident_channel_the_run_goes_on_the_timeline(h: Harness, http_server: str) -> None:
    incident = h.declare()
    assert "HTTP 502 Bad Gateway" in _diag(h, f"http {http_server}/down", incident.channel_id)
    with h.runtime.session() as session:
        query = select(TimelineEvent).where(
            TimelineEvent.kind == "diagnostic", TimelineEvent.incident_id == incident.id
        )
        event = session.scalars(query).one()
        assert event.actor == h.alice
        assert "HTTP 502 Bad Gateway" in event.text and event.data["outcome"] == "crit"


def test_long_output_is_uploaded_as_a_file(h: Harness, http_server: str) -> None:
    assert "attached" in _diag(h, f"http {http_server}/verbose")
    files = h.emulator.wait_for(lambda: h.emulator.uploaded_files(h.general), timeout=5)
    content = files[-1].content
    assert "X-Debug-399" in (content.decode() if isinstance(content, bytes) else content)


def test_where_the_bot_cannot_post_the_answer_is_ephemeral(h: Harness) -> None:
    since = _last_audit_id(h)
    h.emulator.add_channel("quiet", id="C_QUIET", members=[h.alice], bot_member=False)
    response = h.command("redis cache ping", name="/diag", channel="C_QUIET")
    posts = response.wait_responses(2, timeout=10)
    assert "Running `/diag redis cache ping`" in posts[0]["text"]
    assert "of 5 PINGs" in blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))
    assert h.emulator.messages("C_QUIET") == []
    assert _audit(h, since)[0].channel_id == "C_QUIET"


def test_a_url_urllib_cannot_read_is_a_usage_error_not_a_500(h: Harness) -> None:
    """Found by the fuzz test: an ANSI escape is stripped, and the `[` left reads as a broken IPv6 URL."""
    since = _last_audit_id(h)
    response = h.command("http get ==web\x1b[31m", name="/diag")
    assert response.status == 200
    assert "is not a URL Warroom can read" in h.reply(response, timeout=0.5)
    h.wait_idle()
    assert _audit(h, since) == []
