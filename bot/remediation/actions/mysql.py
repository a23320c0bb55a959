"""MySQL / MariaDB: `kill <id>` — the guide's 杀死僵死连接, as `KILL QUERY <id>`.

KILL QUERY stops the statement and leaves the connection open (the application's pool keeps it).
The id must be a whole number that is in information_schema.PROCESSLIST, running something; the
bot's own connection, server threads (replication, event scheduler) and idle connections are
refused. The preview shows the query's user, host, time and text (masked); applying re-reads the
process and refuses when it now runs a different query, so a stale preview never kills the wrong one.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from bot.diagnostics import mysql as diag
from bot.i18n import N_, _
from bot.remediation.actions.base import (
    Action,
    ActionContext,
    Applied,
    Change,
    Preview,
    Refused,
    whole_number,
)
from bot.security.redact import mask

SERVER_COMMANDS = {"Daemon", "Binlog Dump", "Binlog Dump GTID", "Slave_IO", "Slave_SQL", "Slave_worker"}
SERVER_USERS = {"system user", "event_scheduler"}
_ROW = (
    "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO FROM information_schema.PROCESSLIST WHERE ID = %s"
)


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        whole_number(args[0], N_("The connection id (from `/diag mysql processlist`)"))


def _fingerprint(info: Any) -> str:
    return hashlib.sha256(str(info or "").encode("utf-8", "replace")).hexdigest()[:16]


def _one(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row


def _text(value: Any, limit: int = 300) -> str:
    text = mask(" ".join(str(value or "").split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read(conn: Any, pid: int, target: str) -> tuple[dict[str, Any], int]:
    (own,) = _one(conn, "SELECT CONNECTION_ID()") or (0,)
    if pid == int(own):
        raise Refused(
            "own_connection", _("Connection {pid} is the bot's own connection: it is never killed.", pid=pid)
        )
    row = _one(conn, _ROW, (pid,))
    if row is None:
        raise Refused(
            "not_found",
            _(
                "There is no connection {pid} in the PROCESSLIST of {target} (it may have finished). "
                "List them with `/diag mysql {target} processlist`.",
                pid=pid,
                target=target,
            ),
        )
    keys = ("id", "user", "host", "db", "command", "time", "state", "info")
    return dict(zip(keys, row, strict=True)), int(own)


def _check_killable(process: dict[str, Any], pid: int) -> None:
    if process["command"] in SERVER_COMMANDS or process["user"] in SERVER_USERS:
        raise Refused(
            "server_thread",
            _(
                "Connection {pid} is a server thread ({user}, {command}): killing it is not a remediation.",
                pid=pid,
                user=process["user"],
                command=process["command"],
            ),
        )
    if process["command"] == "Killed":
        raise Refused(
            "no_change",
            _(
                "The query of connection {pid} is already being stopped (Killed): the server is rolling it back.",
                pid=pid,
            ),
        )
    if process["command"] == "Sleep" or process["info"] is None:
        raise Refused(
            "no_change",
            _(
                "Connection {pid} is idle ({command}): KILL QUERY would stop nothing. "
                "(To close the connection itself, the guide's `KILL <id>`, do it by hand.)",
                pid=pid,
                command=process["command"],
            ),
        )


def _facts(process: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("id", str(process["id"])),
        ("user", _text(f"{process['user']}@{process['host']}", 120)),
        ("db", _text(process["db"] or "-", 64)),
        ("command", f"{process['command']}, {process['time']} s"),
        ("state", _text(process["state"] or "-", 120)),
        ("query", _text(process["info"])),
    ]


def kill_preview(ctx: ActionContext) -> Preview:
    pid = int(ctx.args[0])
    with diag.connect(ctx.check()) as conn:
        process, _info = _read(conn, pid, ctx.target_name)
    _check_killable(process, pid)
    return Preview(
        title=_("KILL QUERY {pid} on {target_name}", pid=pid, target_name=ctx.target_name),
        changes=[
            Change(
                "query",
                _(
                    "running {time} s by {user}: {query}",
                    time=process["time"],
                    user=_text(process["user"], 64),
                    query=_text(process["info"], 200),
                ),
                "stopped; the connection stays open",
            )
        ],
        facts=_facts(process),
        note=_(
            "The client gets “Query execution was interrupted” (1317); a transaction it was in is rolled back."
        ),
        expect={"user": process["user"], "host": process["host"], "info": _fingerprint(process["info"])},
    )


def kill_apply(ctx: ActionContext) -> Applied:
    pid = int(ctx.args[0])
    with diag.connect(ctx.check()) as conn:
        process, _info = _read(conn, pid, ctx.target_name)
        _check_killable(process, pid)
        same = (process["user"], process["host"], _fingerprint(process["info"])) == (
            ctx.expect.get("user"),
            ctx.expect.get("host"),
            ctx.expect.get("info"),
        )
        if ctx.expect and not same:
            raise Refused(
                "changed",
                _(
                    "Connection {pid} now runs a different query than the preview showed; nothing was killed. "
                    "Run the command again for a fresh preview.",
                    pid=pid,
                ),
            )
        with conn.cursor() as cursor:
            cursor.execute("KILL QUERY %s", (pid,))  # an int, bound by the driver: no text is spliced in
        after = _after(conn, pid)
    return Applied(
        summary=_(
            "Stopped the query of connection {pid} on {target_name} (KILL QUERY)",
            pid=pid,
            target_name=ctx.target_name,
        ),
        changes=[
            Change(
                "query",
                _("running {time} s: {query}", time=process["time"], query=_text(process["info"], 200)),
                after,
            )
        ],
        facts=_facts(process),
        note=_(
            "Only the statement was stopped: the connection stays open for its client. "
            "Check the rest with `/diag mysql {target} processlist`.",
            target=ctx.target_name,
        ),
        data={"id": pid, "user": process["user"], "time": process["time"], "after": after},
    )


def _after(conn: Any, pid: int) -> str:
    """What the connection does now. KILL QUERY stops the statement only: the server shows the
    thread as `Killed` while it unwinds the statement (rolls back), then `Sleep` — the connection is
    open throughout, and the result must not say otherwise."""
    deadline = time.monotonic() + 2.0
    while True:
        row = _one(conn, "SELECT COMMAND, INFO FROM information_schema.PROCESSLIST WHERE ID = %s", (pid,))
        if row is None:
            return "stopped; then its client closed the connection"
        if row[0] == "Sleep" or (row[0] != "Killed" and row[1] is None):
            return _("stopped; the connection stays open (now {command})", command=row[0])
        if time.monotonic() > deadline:
            if row[0] == "Killed":
                return "stopped; the server is still rolling it back, the connection stays open"
            return _("KILL QUERY sent; still {command} — check `/diag mysql processlist`", command=row[0])
        time.sleep(0.05)


ACTIONS = (
    Action(
        kind="mysql",
        verb="kill",
        usage="<id>",
        summary=N_("KILL QUERY: stop a stuck query (the connection stays open)"),
        guide="KILL [connection_id]",
        args=1,
        validate=_validate,
        preview=kill_preview,
        apply=kill_apply,
    ),
)
