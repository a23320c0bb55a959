"""Redis: `set maxmemory <size>` (CONFIG SET maxmemory) and `client-kill type=normal` (CLIENT KILL TYPE normal).

set maxmemory is bounded by `remediation.bounds.redis_maxmemory_mib` and refused below the memory in use
(Redis would start evicting — or refusing writes under noeviction — at once). It is not persisted:
`CONFIG REWRITE` or redis.conf must say it too. client-kill closes every normal client connection
except the bot's own (SKIPME yes): replicas and pub/sub clients stay; applications reconnect.
"""

from __future__ import annotations

import re
from typing import Any

from bot.config.policy import Policy
from bot.diagnostics import redis as diag
from bot.diagnostics.base import UsageError, human_bytes
from bot.i18n import N_, _
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused

_SIZE = re.compile(r"^(\d{1,15})(b|k|kb|m|mb|g|gb)?$")
_UNIT = {None: 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
MIB = 1024**2


def parse_size(text: str) -> int:
    match = _SIZE.match(text.strip().lower())
    if not match:
        raise UsageError(
            _("The size must be a number of bytes or like 512mb or 2gb, not `{value}`.", value=text[:40])
        )
    return int(match.group(1)) * _UNIT[match.group(2)]


# ------------------------------------------------------------------------------ set maxmemory
def _validate_set(args: list[str], options: dict[str, str]) -> None:
    if args and args[0].lower() != "maxmemory":
        raise UsageError(_("`set` changes `maxmemory` only, not `{value}`.", value=args[0][:40]))
    if len(args) > 1:
        parse_size(args[1])


def set_bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    bounds, wanted = policy.remediation.bounds.redis_maxmemory_mib, parse_size(args[1])
    if not bounds.min * MIB <= wanted <= bounds.max * MIB:
        raise Refused(
            "out_of_bounds",
            _(
                "maxmemory {wanted} is out of bounds: it may be {low} MiB to {high} MiB "
                "(`remediation.bounds.redis_maxmemory_mib` in the YAML policy).",
                wanted=human_bytes(wanted),
                low=bounds.min,
                high=bounds.max,
            ),
        )


def _memory(client: Any) -> tuple[int, int, str]:
    info = client.info("memory")
    return (
        int(info.get("maxmemory", 0)),
        int(info.get("used_memory", 0)),
        str(info.get("maxmemory_policy", "?")),
    )


def _size(value: int) -> str:
    return "0 (no limit)" if value == 0 else human_bytes(value)


def _check_set(current: int, used: int, wanted: int, target: str) -> None:
    if wanted == current:
        raise Refused(
            "no_change", _("maxmemory on {target} is already {size}.", target=target, size=_size(wanted))
        )
    if wanted < used:
        raise Refused(
            "out_of_bounds",
            _(
                "{used} is in use on {target}: maxmemory {wanted} would make Redis evict "
                "(or refuse writes) at once. Ask for more than what is used.",
                used=human_bytes(used),
                target=target,
                wanted=human_bytes(wanted),
            ),
        )


def set_preview(ctx: ActionContext) -> Preview:
    wanted = parse_size(ctx.args[1])
    with diag.connect(ctx.check()) as client:
        current, used, policy = _memory(client)
    _check_set(current, used, wanted, ctx.target_name)
    return Preview(
        title=_("CONFIG SET maxmemory on {target_name}", target_name=ctx.target_name),
        changes=[Change("maxmemory", _size(current), human_bytes(wanted))],
        facts=[("used memory", human_bytes(used)), ("maxmemory-policy", policy)],
        note=_(
            "Takes effect at once. Not persisted: run `CONFIG REWRITE` or edit redis.conf, or a restart "
            "brings the old value back. Make sure the host (or container limit) has the memory."
        ),
        expect={"current": current},
    )


def set_apply(ctx: ActionContext) -> Applied:
    wanted = parse_size(ctx.args[1])
    with diag.connect(ctx.check()) as client:
        current, used, _policy = _memory(client)
        _check_set(current, used, wanted, ctx.target_name)
        client.config_set("maxmemory", str(wanted))
        after, _used, policy = _memory(client)
    return Applied(
        summary=_("maxmemory on {target_name} is now {size}", target_name=ctx.target_name, size=_size(after)),
        changes=[Change("maxmemory", _size(current), _size(after))],
        facts=[("used memory", human_bytes(used)), ("maxmemory-policy", policy)],
        note=_("Persist it with `CONFIG REWRITE` or in redis.conf."),
        data={"before": current, "after": after},
    )


# -------------------------------------------------------------------------------- client-kill
def _validate_kill(args: list[str], options: dict[str, str]) -> None:
    if options.get("type", "").lower() != "normal":
        raise UsageError(
            "client-kill takes `type=normal` (replica and pub/sub clients are never killed here)."
        )


def _normal_clients(client: Any) -> tuple[list[dict[str, Any]], int]:
    own = int(client.client_id())
    clients = [c for c in client.client_list(_type="normal") if int(c.get("id", 0)) != own]
    return clients, own


def _summary(clients: list[dict[str, Any]]) -> str:
    by_addr: dict[str, int] = {}
    for c in clients:
        host = str(c.get("addr", "?")).rsplit(":", 1)[0]
        by_addr[host] = by_addr.get(host, 0) + 1
    top = sorted(by_addr.items(), key=lambda kv: -kv[1])[:10]
    return ", ".join(f"{host} ×{n}" for host, n in top) or "-"


def kill_preview(ctx: ActionContext) -> Preview:
    with diag.connect(ctx.check()) as client:
        clients, _ids = _normal_clients(client)
        total = int(client.info("clients").get("connected_clients", 0))
    if not clients:
        raise Refused(
            "no_change",
            _("No normal client is connected to {target_name} but the bot.", target_name=ctx.target_name),
        )
    return Preview(
        title=_("CLIENT KILL TYPE normal on {target_name}", target_name=ctx.target_name),
        changes=[Change("normal clients", str(len(clients)), _("0 (they reconnect)"))],
        facts=[
            ("connected clients", str(total)),
            ("by address", _summary(clients)),
            ("kept", _("the bot's own connection, replicas, pub/sub")),
        ],
        note=_(
            "Every application connection drops: pools reconnect; an in-flight command gets a connection error."
        ),
        expect={"count": len(clients)},
    )


def kill_apply(ctx: ActionContext) -> Applied:
    with diag.connect(ctx.check()) as client:
        before, _ids = _normal_clients(client)
        killed = int(client.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
        after, _ids_after = _normal_clients(client)
    return Applied(
        summary=_(
            "Closed {killed} normal client connection(s) on {target_name}",
            killed=killed,
            target_name=ctx.target_name,
        ),
        changes=[Change("normal clients", str(len(before)), str(len(after)))],
        note=_(
            "Those now connected reconnected since; check with `/diag redis {target_name} clients`.",
            target_name=ctx.target_name,
        ),
        data={"killed": killed, "before": len(before), "after": len(after)},
    )


ACTIONS = (
    Action(
        kind="redis",
        verb="set",
        usage="maxmemory <size>",
        summary=N_("CONFIG SET maxmemory (e.g. 2gb), within remediation.bounds"),
        guide="redis-cli config set maxmemory 2gb",
        args=2,
        validate=_validate_set,
        bounds=set_bounds,
        preview=set_preview,
        apply=set_apply,
    ),
    Action(
        kind="redis",
        verb="client-kill",
        usage="type=normal",
        summary=N_("close every normal client connection (not the bot's, replicas or pub/sub)"),
        guide="redis-cli client kill type normal",
        args=0,
        options=("type",),
        validate=_validate_kill,
        preview=kill_preview,
        apply=kill_apply,
    ),
)
