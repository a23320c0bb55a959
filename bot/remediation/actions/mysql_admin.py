"""MySQL / MariaDB "Too many connections": `kill-idle [user=…] [older=…]` and `set max_connections <n>`.

kill-idle closes idle connections (COMMAND = Sleep) — what frees slots — and never a running query:
the preview lists the Sleep connections older than `older=` (at least `remediation.bounds.kill_idle_older_s`),
and applying re-reads each listed id right before its `KILL CONNECTION`, skipping one that is no
longer Sleep, no longer in the preview, or younger than `older=`. The bot's own connection, server
threads and system users are never listed. The remaining race (a client sends a query between the
re-read and the KILL, a few hundred microseconds) is the same one `KILL` by hand has.

set max_connections is `SET GLOBAL max_connections = n` within `remediation.bounds.mysql_max_connections`
and never below the connections open now; it does not survive a restart (my.cnf must say it too).
"""

from __future__ import annotations

from typing import Any

from bot.config.policy import Policy
from bot.diagnostics import mysql as diag
from bot.diagnostics.base import UsageError
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
from bot.remediation.actions.mysql import SERVER_COMMANDS, SERVER_USERS
from bot.security.redact import mask

_IDLE = (
    "SELECT ID, USER, HOST, DB, TIME FROM information_schema.PROCESSLIST "
    "WHERE COMMAND = 'Sleep' AND ID <> CONNECTION_ID() AND TIME >= %s ORDER BY TIME DESC, ID"
)
_ONE = "SELECT COMMAND, TIME, USER FROM information_schema.PROCESSLIST WHERE ID = %s"
_USER_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$@%")
SHOWN = 15  # ids listed in the preview; the count covers the rest


def _number(conn: Any, sql: str) -> int:
    """The value of a one-row SHOW … LIKE (a fixed statement, no user text)."""
    with conn.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return int(row[1]) if row and str(row[1]).isdigit() else 0


# -------------------------------------------------------------------------------- kill-idle
def _validate_idle(args: list[str], options: dict[str, str]) -> None:
    user = options.get("user")
    if user is not None and (not user or len(user) > 80 or not set(user) <= _USER_CHARS):
        raise UsageError(
            _("`user=` takes a MySQL user name (letters, digits, _ . - $), not `{value}`.", value=user[:40])
        )
    if "older" in options:
        _older(options)


def _older(options: dict[str, str]) -> int:
    from bot.diagnostics.base import parse_seconds

    raw = options.get("older")
    return 300 if raw is None else int(parse_seconds("older", raw))


def idle_bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    least = policy.remediation.bounds.kill_idle_older_s
    if _older(options) < least:
        raise Refused(
            "out_of_bounds",
            _(
                "`older={older}` is below the {least} s an idle connection must have been idle "
                "(`remediation.bounds.kill_idle_older_s` in the YAML policy): a pool's connection is idle between "
                "two queries.",
                older=options.get("older"),
                least=least,
            ),
        )


def _idle(conn: Any, ctx: ActionContext) -> list[dict[str, Any]]:
    user = ctx.options.get("user")
    with conn.cursor() as cursor:
        cursor.execute(_IDLE, (_older(ctx.options),))
        rows = cursor.fetchall()
    found = []
    for pid, who, host, db, idle in rows:
        if who in SERVER_USERS or (user is not None and who != user):
            continue
        found.append({"id": int(pid), "user": who, "host": host, "db": db, "time": int(idle)})
    return found


def _listing(rows: list[dict[str, Any]]) -> str:
    shown = ", ".join(
        _("{id} ({user}, {time} s)", id=r["id"], user=r["user"], time=r["time"]) for r in rows[:SHOWN]
    )
    return shown + (_(" and {n} more", n=len(rows) - SHOWN) if len(rows) > SHOWN else "")


def _who(ctx: ActionContext) -> str:
    user = ctx.options.get("user")
    return _("of user {user} ", user=user) if user else ""


def idle_preview(ctx: ActionContext) -> Preview:
    limit = ctx.policy.remediation.bounds.kill_idle_max
    with diag.connect(ctx.check()) as conn:
        rows = _idle(conn, ctx)
        connected = _number(conn, "SHOW GLOBAL STATUS LIKE 'Threads_connected'")
        maximum = _number(conn, "SHOW GLOBAL VARIABLES LIKE 'max_connections'")
    older = _older(ctx.options)
    if not rows:
        raise Refused(
            "no_change",
            _(
                "No connection {who}on {target} has been idle (Sleep) for {older} s or more; "
                "nothing to close. See them with `/diag mysql {target} processlist`.",
                who=_who(ctx),
                target=ctx.target_name,
                older=older,
            ),
        )
    if len(rows) > limit:
        raise Refused(
            "out_of_bounds",
            _(
                "{n} idle connections match, more than the {limit} one kill-idle may close "
                "(`remediation.bounds.kill_idle_max`); narrow it with `user=` or a larger `older=`.",
                n=len(rows),
                limit=limit,
            ),
        )
    return Preview(
        title=_(
            "Close {n} idle connection(s) {who}on {target_name}",
            n=len(rows),
            who=_who(ctx),
            target_name=ctx.target_name,
        ),
        changes=[
            Change(
                "connections",
                _("{connected} of max {maximum}", connected=connected, maximum=maximum),
                _("{connected} of max {maximum}", connected=connected - len(rows), maximum=maximum),
            ),
            Change(_("idle (Sleep ≥ {older} s)", older=older), str(len(rows)), _("0 (KILL CONNECTION)")),
        ],
        facts=[("idle connections", mask(_listing(rows))), ("running queries", "never touched")],
        note=_(
            "Only connections still idle at the confirm are closed; a pool reconnects on its next use. "
            "A connection that started a query in the meantime is skipped."
        ),
        expect={"ids": [r["id"] for r in rows]},
    )


def idle_apply(ctx: ActionContext) -> Applied:
    listed = set(int(i) for i in ctx.expect.get("ids") or [])
    older = _older(ctx.options)
    user = ctx.options.get("user")
    killed, skipped = [], []
    with diag.connect(ctx.check()) as conn, conn.cursor() as cursor:
        for pid in sorted(listed):
            cursor.execute(_ONE, (pid,))
            row = cursor.fetchone()
            if row is None:
                continue  # gone by itself
            command, idle, who = row
            if (
                command != "Sleep"
                or int(idle) < older
                or (user is not None and who != user)
                or command in SERVER_COMMANDS
            ):
                skipped.append(pid)
                continue
            try:
                cursor.execute("KILL CONNECTION %s", (pid,))  # an int bound by the driver
                killed.append(pid)
            except Exception as exc:  # it ended between the read and the KILL (1094 unknown thread)
                if "1094" not in str(exc):
                    raise
        connected = _number(conn, "SHOW GLOBAL STATUS LIKE 'Threads_connected'")
    note = (
        _("{n} listed connection(s) were busy by then and were left alone. ", n=len(skipped))
        if skipped
        else ""
    )
    return Applied(
        summary=_(
            "Closed {n} idle connection(s) {who}on {target_name}",
            n=len(killed),
            who=_who(ctx),
            target_name=ctx.target_name,
        ),
        changes=[Change("idle connections closed", str(len(listed)) + " listed", str(len(killed)))],
        facts=[
            ("closed", ", ".join(map(str, killed)) or "-"),
            ("skipped (busy)", ", ".join(map(str, skipped)) or "-"),
            ("connections now", str(connected)),
        ],
        note=note + _("Check with `/diag mysql {target_name} connections`.", target_name=ctx.target_name),
        data={"killed": killed, "skipped": skipped, "connected_after": connected},
    )


# ------------------------------------------------------------------------ set max_connections
def _validate_set(args: list[str], options: dict[str, str]) -> None:
    if args and args[0].lower() != "max_connections":
        raise UsageError(_("`set` changes `max_connections` only, not `{value}`.", value=args[0][:40]))
    if len(args) > 1:
        whole_number(args[1], "max_connections")


def set_bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    bounds, wanted = policy.remediation.bounds.mysql_max_connections, int(args[1])
    if not bounds.min <= wanted <= bounds.max:
        raise Refused(
            "out_of_bounds",
            _(
                "max_connections {wanted} is out of bounds: it may be {low} to {high} "
                "(`remediation.bounds.mysql_max_connections` in the YAML policy).",
                wanted=wanted,
                low=bounds.min,
                high=bounds.max,
            ),
        )


def _state(conn: Any) -> tuple[int, int, int]:
    """(max_connections, connected now, most ever used)."""
    return (
        _number(conn, "SHOW GLOBAL VARIABLES LIKE 'max_connections'"),
        _number(conn, "SHOW GLOBAL STATUS LIKE 'Threads_connected'"),
        _number(conn, "SHOW GLOBAL STATUS LIKE 'Max_used_connections'"),
    )


def _check_set(current: int, connected: int, wanted: int, target: str) -> None:
    if wanted == current:
        raise Refused(
            "no_change", _("max_connections on {target} is already {wanted}.", target=target, wanted=wanted)
        )
    if wanted < connected:
        raise Refused(
            "out_of_bounds",
            _(
                "{connected} connections are open on {target}: max_connections {wanted} would refuse every new "
                "one. Close idle ones first (`kill-idle`).",
                connected=connected,
                target=target,
                wanted=wanted,
            ),
        )


def set_preview(ctx: ActionContext) -> Preview:
    wanted = int(ctx.args[1])
    with diag.connect(ctx.check()) as conn:
        current, connected, used = _state(conn)
    _check_set(current, connected, wanted, ctx.target_name)
    return Preview(
        title=_("SET GLOBAL max_connections on {target_name}", target_name=ctx.target_name),
        changes=[Change("max_connections", str(current), str(wanted))],
        facts=[("connections now", str(connected)), ("most ever used", str(used))],
        note=_(
            "Takes effect for new connections at once; each connection costs memory (per-thread buffers). "
            "Not persisted: put `max_connections` in my.cnf too, or the restart brings the old value back."
        ),
        expect={"current": current},
    )


def set_apply(ctx: ActionContext) -> Applied:
    wanted = int(ctx.args[1])
    with diag.connect(ctx.check()) as conn:
        current, connected, _rest = _state(conn)
        _check_set(current, connected, wanted, ctx.target_name)
        with conn.cursor() as cursor:
            cursor.execute("SET GLOBAL max_connections = %s", (wanted,))
        after, _connected, _rest_after = _state(conn)
    shown = ctx.expect.get("current")
    note = (
        _("It had changed from {shown} to {current} since the preview. ", shown=shown, current=current)
        if shown not in (None, current)
        else ""
    )
    return Applied(
        summary=_(
            "max_connections on {target_name} is now {after}", target_name=ctx.target_name, after=after
        ),
        changes=[Change("max_connections", str(current), str(after))],
        note=note + _("Add it to my.cnf (`[mysqld] max_connections = …`) so a restart keeps it."),
        data={"before": current, "after": after},
    )


ACTIONS = (
    Action(
        kind="mysql",
        verb="kill-idle",
        usage="[user=<name>] [older=<5m>]",
        summary=N_("close idle (Sleep) connections to free slots — never a running query"),
        guide="KILL <id> for each Sleep connection in SHOW PROCESSLIST (Too many connections)",
        args=0,
        options=("user", "older"),
        validate=_validate_idle,
        bounds=idle_bounds,
        preview=idle_preview,
        apply=idle_apply,
    ),
    Action(
        kind="mysql",
        verb="set",
        usage="max_connections <n>",
        summary=N_("raise (or lower) max_connections at runtime, within remediation.bounds"),
        guide="SET GLOBAL max_connections = 500",
        args=2,
        validate=_validate_set,
        bounds=set_bounds,
        preview=set_preview,
        apply=set_apply,
    ),
)
