"""`/diag mysql` against the machine's MariaDB: real Threads_connected, max_connections, processlist."""

from __future__ import annotations

import contextlib
import threading

import pymysql
import pytest

from bot.config.policy import Policy
from bot.diagnostics import mysql, runner
from bot.diagnostics.base import Level, Outcome
from tests.diagnostics.conftest import wait_until

MARKER = "warroom-diag-test"


def _connect() -> pymysql.connections.Connection:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database="test", autocommit=True)


def _scalar(sql: str) -> str:
    conn = _connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return str(cursor.fetchone()[1])
    finally:
        conn.close()


def test_connections_against_the_real_max_connections(policy: Policy) -> None:
    max_connections = int(_scalar("SHOW VARIABLES LIKE 'max_connections'"))
    extra = [_connect() for _ in range(4)]
    try:
        result = runner.run_check(policy, "mysql", "connections", "orders")
    finally:
        for conn in extra:
            conn.close()
    assert result.outcome in (Outcome.OK, Outcome.WARN, Outcome.CRIT)
    first = result.findings[0].message
    assert f"of max_connections {max_connections} (" in first and " %)" in first
    assert result.data["max_connections"] == max_connections
    assert result.data["threads_connected"] >= 5  # our 4 plus the check's own
    assert "Threads_connected" in result.detail and "Who holds them" in result.detail
    assert result.elapsed_ms < 5000


@pytest.mark.parametrize(
    ("connected", "level"),
    [(50, Level.OK), (120, Level.OK), (121, Level.WARN), (143, Level.WARN), (144, Level.CRIT)],
)
def test_connection_thresholds_follow_the_guide(connected: int, level: Level) -> None:
    # 121 / 151 = 80.1 % warns (the guide's ≥ 80 %); 144 / 151 = 95.4 % is critical.
    report = mysql.evaluate_connections(connected, 151, connected, 0)
    assert report.findings[0].level is level
    if level is not Level.OK:
        assert "增加连接数限制或优化连接池" in (report.findings[0].fix or "")


def test_counters_since_start_are_history_not_a_warning() -> None:
    report = mysql.evaluate_connections(10, 151, 152, 17, uptime=3 * 86400 + 7200)
    assert report.level is Level.OK
    history = report.findings[-1].message
    assert history.startswith("History since the server started 3 d 2 h ago:")
    assert "152 ≥ max_connections 151" in history and "17 connections were refused" in history


def test_processlist_flags_a_long_running_query(policy: Policy) -> None:
    sleeper = _connect()
    thread_id = sleeper.thread_id()

    def sleep() -> None:
        # 1317 "Query execution was interrupted" is our KILL QUERY below.
        with contextlib.suppress(pymysql.err.OperationalError):
            sleeper.query(f"SELECT /* {MARKER} */ SLEEP(6)")

    worker = threading.Thread(target=sleep, daemon=True)
    worker.start()
    try:

        def running_two_seconds() -> bool:
            conn = _connect()
            try:
                with conn.cursor() as cursor:
                    cursor.execute(f"SELECT TIME FROM information_schema.PROCESSLIST WHERE ID = {thread_id}")
                    row = cursor.fetchone()
                    return bool(row and row[0] >= 2)
            finally:
                conn.close()

        wait_until(running_two_seconds, timeout=5)
        result = runner.run_check(policy, "mysql", "processlist", "orders", options={"over": "1s"})
    finally:
        killer = _connect()
        killer.query(f"KILL QUERY {thread_id}")
        killer.close()
        worker.join(5)
        sleeper.close()
    flagged = [f for f in result.findings if f.level is Level.WARN and f"Query {thread_id} " in f.message]
    assert flagged, result.findings
    assert "SLEEP(6)" in flagged[0].message and "running" in flagged[0].message
    assert "KILL" in (flagged[0].fix or "")
    assert result.outcome is Outcome.WARN
    assert thread_id in result.data["long_queries"]
    assert MARKER in result.detail


def test_processlist_default_threshold_is_300_seconds(policy: Policy) -> None:
    result = runner.run_check(policy, "mysql", "processlist", "orders")
    assert any("over 300 s" in f.message for f in result.findings) or result.outcome is Outcome.WARN


def test_slowlog_state(policy: Policy) -> None:
    state = _scalar("SHOW VARIABLES LIKE 'slow_query_log'")
    result = runner.run_check(policy, "mysql", "slowlog", "orders")
    if state.upper() == "OFF":
        assert result.findings[0].level is Level.WARN
        assert "Slow query log is OFF" in result.findings[0].message
        assert "long_query_time = 1" in (result.findings[0].fix or "")
    else:
        assert "Slow query log is ON" in result.findings[0].message
    assert "long_query_time" in result.detail


def test_unreachable_server_is_an_error_with_the_guides_fix(policy: Policy) -> None:
    result = runner.run_check(policy, "mysql", "connections", "reports")
    assert result.outcome is Outcome.ERROR
    assert "Can't connect to MySQL at 127.0.0.1:" in result.findings[0].message
    assert "connection refused" in result.findings[0].message.lower()
    assert "检查网络连接和数据库服务状态" in (result.findings[0].fix or "")
