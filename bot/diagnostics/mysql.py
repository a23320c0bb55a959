"""MySQL / MariaDB: connections vs max_connections, long-running queries, slow-query-log state.

Mirrors the guide's `SHOW STATUS LIKE 'Threads_connected'`, `SHOW VARIABLES LIKE 'max_connections'`,
the information_schema.PROCESSLIST query for non-Sleep queries over 300 s, and `slow_query%`.
Read-only: every statement is a SHOW or a SELECT. One short-lived connection per check, because a
pooled one would itself count against the connections being diagnosed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Level,
    Report,
    format_pairs,
    format_table,
    level_for,
    parse_seconds,
    percent,
)
from bot.i18n import N_, _

LONG_QUERY_SECONDS = 300  # the guide's "Command != 'Sleep' AND Time > 300"
# Connections that are busy by design, not stuck.
IDLE_COMMANDS = {
    "Sleep",
    "Daemon",
    "Binlog Dump",
    "Binlog Dump GTID",
    "Slave_IO",
    "Slave_SQL",
    "Slave_worker",
}


@contextmanager
def connect(ctx: CheckContext) -> Iterator[Any]:
    import pymysql  # imported here so the bot starts without the driver loaded
    from sqlalchemy.engine import make_url

    url = make_url(ctx.target.url)
    password = os.environ.get(ctx.target.password_env, "") if ctx.target.password_env else url.password
    host, port = url.host or "127.0.0.1", url.port or 3306
    try:
        conn = pymysql.connect(
            host=host,
            port=port,
            user=url.username or "",
            password=str(password or ""),
            database=url.database or None,
            connect_timeout=max(1, int(ctx.timeout)),
            read_timeout=max(1, int(ctx.timeout)),
            write_timeout=max(1, int(ctx.timeout)),
            charset="utf8mb4",
            autocommit=True,
        )
    except pymysql.err.MySQLError as exc:
        raise _failure(exc, host, port) from exc
    try:
        yield conn
    finally:
        conn.close()


def _failure(exc: Exception, host: str, port: int) -> CheckFailed:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code == 1040:
        return CheckFailed(
            _("{address} refuses new connections: Too many connections (1040)", address=f"{host}:{port}"),
            Fix.TOO_MANY_CONNECTIONS,
        )
    if code == 1045:
        return CheckFailed(
            _(
                "Access denied at {address}: check the target's user and password_env",
                address=f"{host}:{port}",
            )
        )
    # PyMySQL wraps the socket error: "Can't connect to MySQL server on 'h' ([Errno 111] Connection refused)".
    inner = re.search(r"\((?:\[Errno -?\d+\] )?([^()]+)\)\s*$", message)
    reason = inner.group(1) if inner and code == 2003 else message
    return CheckFailed(
        _("Can't connect to MySQL at {address}: {reason}", address=f"{host}:{port}", reason=reason),
        Fix.DB_UNREACHABLE,
    )


def _validate_over(args: list[str], options: dict[str, str]) -> None:
    if "over" in options:
        parse_seconds("over", options["over"])


def _query(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def _variables(conn: Any, sql: str) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in _query(conn, sql)}


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _since_start(uptime: int | None) -> str:
    if uptime is None:  # 0 is an answer: a server started under a second ago
        return _("since the server started")
    days, hours = divmod(uptime // 3600, 24)
    if days:
        age = f"{days} d {hours} h"
    elif hours:
        age = f"{hours} h {uptime % 3600 // 60} min"
    else:
        age = f"{uptime // 60} min" if uptime >= 60 else f"{uptime} s"
    return _("since the server started {age} ago", age=age)


def evaluate_connections(
    connected: int, maximum: int, max_used: int, refused: int, uptime: int | None = None
) -> Report:
    """The guide's thresholds: ≥ 80 % of max_connections warns, ≥ 95 % is critical.

    Max_used_connections and Connection_errors_max_connections only grow until the server restarts,
    so they say the limit WAS reached at some point, not that it is now: history, never a warning
    (a warning would stay on for weeks after the incident that caused it)."""
    report = Report()
    share = percent(connected, maximum)
    report.add(
        level_for(connected / maximum if maximum else 0.0),
        _(
            "Connections {connected} of max_connections {maximum} ({share} %)",
            connected=connected,
            maximum=maximum,
            share=f"{share:.0f}",
        ),
        Fix.TOO_MANY_CONNECTIONS,
    )
    history = []
    if maximum and max_used >= maximum:
        history.append(
            _(
                "the peak reached the limit ({used} ≥ max_connections {maximum})",
                used=max_used,
                maximum=maximum,
            )
        )
    if refused:
        history.append(_("{n} connections were refused with “Too many connections” (1040)", n=refused))
    if history:
        report.ok(
            _(
                "History {since}: {history}. Counters, not the current state: compare with the connections now",
                since=_since_start(uptime),
                history="; ".join(history),
            )
        )
    return report


def connections(ctx: CheckContext) -> Report:
    with connect(ctx) as conn:
        status = _variables(
            conn,
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Threads_running', "
            "'Max_used_connections', 'Aborted_connects', 'Connection_errors_max_connections', 'Uptime')",
        )
        variables = _variables(
            conn,
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'max_user_connections', 'wait_timeout')",
        )
        holders = _query(
            conn,
            "SELECT USER, SUBSTRING_INDEX(HOST, ':', 1), COUNT(*), SUM(COMMAND = 'Sleep') "
            "FROM information_schema.PROCESSLIST GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10",
        )
    connected, maximum = _int(status.get("threads_connected")), _int(variables.get("max_connections"))
    max_used, refused = (
        _int(status.get("max_used_connections")),
        _int(status.get("connection_errors_max_connections")),
    )
    uptime = _int(status["uptime"]) if status.get("uptime") is not None else None  # 0 s is an answer
    report = evaluate_connections(connected, maximum, max_used, refused, uptime)
    report.detail = (
        format_pairs(
            [
                ("Threads_connected", connected),
                ("max_connections", maximum),
                ("usage", f"{percent(connected, maximum):.1f} %"),
                ("Threads_running", status.get("threads_running")),
                ("Max_used_connections", max_used),
                ("Connection_errors_max_connections", refused),
                ("Aborted_connects", status.get("aborted_connects")),
                ("Uptime", f"{uptime or '?'} s (the counters above count since then)"),
                ("max_user_connections", variables.get("max_user_connections")),
                ("wait_timeout", variables.get("wait_timeout")),
            ]
        )
        + "\n\nWho holds them:\n"
        + format_table(["user", "host", "connections", "sleeping"], [list(row) for row in holders])
    )
    report.data = {
        "threads_connected": connected,
        "max_connections": maximum,
        "percent": round(percent(connected, maximum), 1),
        "max_used_connections": max_used,
        "refused_since_start": refused,
    }
    return report


def processlist(ctx: CheckContext) -> Report:
    over = ctx.seconds_option("over", LONG_QUERY_SECONDS)
    with connect(ctx) as conn:
        rows = _query(
            conn,
            "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, LEFT(INFO, 300) FROM information_schema.PROCESSLIST "
            "WHERE ID <> CONNECTION_ID() ORDER BY TIME DESC",
        )
    active = [row for row in rows if row[4] not in IDLE_COMMANDS]
    stuck = [row for row in active if (row[5] or 0) > over]
    report = Report()
    if not stuck:
        report.ok(
            _(
                "No query running over {over} s ({active} active, {idle} idle)",
                over=f"{over:g}",
                active=len(active),
                idle=len(rows) - len(active),
            )
        )
    for row in stuck[:10]:
        query = " ".join(str(row[7] or row[6] or row[4]).split())
        query = query if len(query) <= 120 else query[:119] + "…"
        report.warn(
            _(
                "Query {id} by {who} running {seconds} s: {query}",
                id=row[0],
                who=f"{row[1]}@{row[2]}",
                seconds=row[5],
                query=query,
            ),
            Fix.KILL_STUCK_QUERY,
        )
    if len(stuck) > 10:
        report.warn(
            _("…and {n} more queries over {over} s", n=len(stuck) - 10, over=f"{over:g}"),
            Fix.KILL_STUCK_QUERY,
        )
    table = format_table(
        ["id", "user", "host", "db", "command", "time", "state", "info"],
        [list(row) for row in active[:50]],
        max_width=80,
    )
    report.detail = (
        f"Active connections (non-Sleep), longest first; {len(rows) - len(active)} idle not shown:\n{table}"
    )
    report.data = {
        "active": len(active),
        "idle": len(rows) - len(active),
        "over": over,
        "long_queries": [row[0] for row in stuck],
    }
    return report


def slowlog(ctx: CheckContext) -> Report:
    with connect(ctx) as conn:
        variables = _variables(
            conn,
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('slow_query_log', 'long_query_time', "
            "'slow_query_log_file', 'log_output', 'log_queries_not_using_indexes')",
        )
        status = _variables(conn, "SHOW GLOBAL STATUS LIKE 'Slow_queries'")
    enabled = variables.get("slow_query_log", "").upper() in ("ON", "1")
    long_time = float(variables.get("long_query_time") or 0)
    slow = _int(status.get("slow_queries"))
    report = Report()
    if enabled:
        report.ok(
            _(
                "Slow query log is ON (long_query_time {seconds} s, output {output})",
                seconds=f"{long_time:g}",
                output=variables.get("log_output", "?"),
            )
        )
    else:
        report.warn(_("Slow query log is OFF: slow queries are not being recorded"), Fix.SLOW_LOG)
    report.add(Level.OK, _("{n} queries slower than long_query_time since the server started", n=slow))
    report.detail = format_pairs(
        [(name, value) for name, value in sorted(variables.items())] + [("Slow_queries", slow)]
    )
    report.data = {"slow_query_log": enabled, "long_query_time": long_time, "slow_queries": slow}
    return report


ADAPTER = Adapter(
    name="mysql",
    summary=N_("MySQL/MariaDB connections, long queries, slow-query log"),
    target_kind="mysql",
    timeout_fix=Fix.DB_UNREACHABLE,
    default_check="connections",
    checks={
        "connections": Check(
            "connections",
            connections,
            N_("Threads_connected vs max_connections (≥ 80 % warns)"),
            guide="SHOW STATUS LIKE 'Threads_connected'; SHOW VARIABLES LIKE 'max_connections'",
            max_args=0,
            options=(),
        ),
        "processlist": Check(
            "processlist",
            processlist,
            N_("active queries, flagging non-Sleep ones over 300 s"),
            usage="[over=300s]",
            guide="SELECT … FROM information_schema.PROCESSLIST WHERE Command != 'Sleep' AND Time > 300",
            max_args=0,
            options=("over",),
            validate=_validate_over,
        ),
        "slowlog": Check(
            "slowlog",
            slowlog,
            N_("slow-query-log state and count"),
            guide="SHOW VARIABLES LIKE 'slow_query%'",
            max_args=0,
            options=(),
        ),
    },
)
