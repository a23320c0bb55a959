"""`/diag` end to end: signed slash commands over HTTP → Bolt → handler → real engines → Slack emulator."""

from __future__ import annotations

import time
from typing import Any

import pymysql
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.incidents.models import TimelineEvent
from bot.slack_emulator import blocks_to_text
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
        last = messages[-1] if len(messages) > before else None
        return last if last and "Running `/diag" not in (last.get("text") or "") else None

    message = h.emulator.wait_for(done, timeout=10)
    return blocks_to_text(message.get("blocks"), message.get("text"))


def _diag(h: Harness, text: str, channel: str | None = None) -> str:
    channel = channel or h.general
    before = len(h.emulator.messages(channel))
    response = h.command(text, name="/diag", channel=channel)
    assert response.status == 200
    return _answer(h, channel, before)


def _audit(h: Harness) -> list[AuditEntry]:
    with h.runtime.session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "diag").order_by(AuditEntry.id))
        )


def test_mysql_connections_against_the_real_max(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        started = time.monotonic()
        response = h.command("mysql orders", name="/diag")
        assert response.status == 200 and time.monotonic() - started < 3.0
        text = _answer(h, h.general, 0)
        assert f"of max_connections {_max_connections()} (" in text
        assert "/diag mysql orders connections" in text
        updates = h.emulator.calls_to("chat.update")
        assert len(updates) == 1 and len(h.emulator.calls_to("chat.postMessage")) == 1
        [entry] = _audit(h)
        assert (entry.actor, entry.channel_id, entry.target) == (
            h.alice,
            h.general,
            "mysql orders connections",
        )


def test_unknown_target_is_answered_in_the_ack_and_runs_nothing(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        response = h.command("mysql x", name="/diag")
        assert response.status == 200
        assert h.reply(response, timeout=0.5) == "Unknown mysql target `x`. Known: `orders`, `reports`."
        h.wait_idle()
        assert h.emulator.calls_to("chat.postMessage") == [] and _audit(h) == []


def test_redis_http_tcp_and_metadata(sqlite_url: str, http_server: str, closed_port: int) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        assert "of maxclients" in _diag(h, "redis cache")
        text = _diag(h, f"http {http_server}/health")
        assert "HTTP 200 OK" in text and "first byte" in text and " ms" in text
        assert f"127.0.0.1:{closed_port}: connection refused" in _diag(h, f"tcp 127.0.0.1 {closed_port}")
        assert "link-local / cloud metadata" in _diag(h, "http http://169.254.169.254/latest/meta-data/iam/")
        outcomes = [e.outcome for e in _audit(h)]
        assert outcomes[0] in ("ok", "warn") and outcomes[1:] == ["ok", "crit", "refused"]


def test_in_an_incident_channel_the_run_goes_on_the_timeline(sqlite_url: str, http_server: str) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        incident = h.declare()
        channel = incident.channel_id
        assert "HTTP 502 Bad Gateway" in _diag(h, f"http {http_server}/down", channel)
        with h.runtime.session() as session:
            event = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "diagnostic")).one()
            assert event.incident_id == incident.id and event.actor == h.alice
            assert "HTTP 502 Bad Gateway" in event.text and event.data["outcome"] == "crit"


def test_long_output_is_uploaded_as_a_file(sqlite_url: str, http_server: str) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        assert "attached" in _diag(h, f"http {http_server}/verbose")
        files = h.emulator.wait_for(lambda: h.emulator.uploaded_files(h.general), timeout=5)
        assert (
            "X-Debug-399" in files[0].content.decode()
            if isinstance(files[0].content, bytes)
            else files[0].content
        )


def test_where_the_bot_cannot_post_the_answer_is_ephemeral(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=make_policy()) as h:
        h.emulator.add_channel("quiet", id="C_QUIET", members=[h.alice], bot_member=False)
        response = h.command("redis cache ping", name="/diag", channel="C_QUIET")
        posts = response.wait_responses(2, timeout=10)
        assert "Running `/diag redis cache ping`" in posts[0]["text"]
        assert "PONG in" in blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))
        assert h.emulator.messages("C_QUIET") == []
        assert _audit(h)[0].channel_id == "C_QUIET"
