"""Redis: ping latency, clients vs maxclients, memory vs maxmemory and policy, evictions, hit rate.

Mirrors the guide's `redis-cli ping`, `info clients`, `config get maxclients`, `info memory`.
One INFO call answers everything; CONFIG GET is only a fallback for servers older than 7.0 (whose
INFO lacks maxclients), and managed Redis that disables CONFIG still gets a report.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
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
    human_bytes,
    level_for,
    percent,
)
from bot.i18n import N_, _

SLOW_PING_MS = 100.0
MIN_LOOKUPS = 100  # below this, a hit rate says nothing
LOW_HIT_RATE = 0.8


@contextmanager
def connect(ctx: CheckContext) -> Iterator[Any]:
    import redis  # imported here so the bot starts without the client loaded

    password = os.environ.get(ctx.target.password_env) if ctx.target.password_env else None
    client = redis.Redis.from_url(
        ctx.target.url,
        socket_timeout=ctx.timeout,
        socket_connect_timeout=ctx.timeout,
        **({"password": password} if password else {}),
    )
    try:
        yield client
    except redis.exceptions.AuthenticationError as exc:
        raise CheckFailed(
            _("Redis refused our credentials: {error}; check the target's password_env", error=exc)
        ) from exc
    except redis.exceptions.TimeoutError as exc:
        raise CheckFailed(
            _("Redis did not answer within {limit} s", limit=f"{ctx.timeout:g}"), Fix.DEPENDENCY
        ) from exc
    except redis.exceptions.ConnectionError as exc:
        raise CheckFailed(_("Can't connect to Redis: {error}", error=exc), Fix.DEPENDENCY) from exc
    finally:
        client.close()


def _maxclients(client: Any, info: dict[str, Any]) -> int | None:
    if "maxclients" in info:
        return int(info["maxclients"])
    try:
        return int(client.config_get("maxclients").get("maxclients", 0)) or None
    except Exception:  # CONFIG renamed or disabled (managed Redis): report without it
        return None


PINGS = 5


def gather(ctx: CheckContext) -> dict[str, Any]:
    with connect(ctx) as client:
        client.ping()  # connects: the handshake is not latency
        pings = []
        for _attempt in range(PINGS):
            started = time.perf_counter()
            client.ping()
            pings.append((time.perf_counter() - started) * 1000)
        info = dict(client.info())
        info["maxclients"] = _maxclients(client, info)
    info["pings_ms"] = pings
    info["ping_ms"] = statistics.median(pings)
    info["ping_ms_worst"] = max(pings)
    return info


def evaluate_ping(report: Report, info: dict[str, Any]) -> None:
    """The median is the usual latency; the worst matters too: an application's timeout trips on the
    slow one, so a Redis that is fast most of the time but stalls now and then is flagged."""
    median, worst = float(info["ping_ms"]), float(info.get("ping_ms_worst", info["ping_ms"]))
    count = len(info.get("pings_ms") or [median])
    figures = _(
        "median {median} ms, worst {worst} ms of {count} PINGs",
        median=f"{median:.1f}",
        worst=f"{worst:.1f}",
        count=count,
    )
    if median >= SLOW_PING_MS:
        report.warn(_("PING slow: {figures}", figures=figures), Fix.DEPENDENCY)
    elif worst >= SLOW_PING_MS:
        report.warn(_("PING intermittently slow: {figures}", figures=figures), Fix.DEPENDENCY)
    else:
        report.ok(
            _("PONG: {figures} (Redis {version})", figures=figures, version=info.get("redis_version", "?"))
        )


def evaluate_clients(report: Report, info: dict[str, Any]) -> None:
    connected, maximum = int(info.get("connected_clients", 0)), info.get("maxclients")
    if maximum:
        level = level_for(connected / maximum)
        report.add(
            level,
            _(
                "Clients {connected} of maxclients {maximum} ({share} %)",
                connected=connected,
                maximum=maximum,
                share=f"{percent(connected, maximum):.0f}",
            ),
            Fix.REDIS_CLIENTS,
        )
    else:
        report.ok(_("Clients {connected} (maxclients unknown: CONFIG is disabled)", connected=connected))
    rejected = int(info.get("rejected_connections", 0))
    if rejected:
        report.warn(
            _("{n} connections rejected since start (maxclients reached)", n=rejected), Fix.REDIS_CLIENTS
        )


def evaluate_memory(report: Report, info: dict[str, Any]) -> None:
    used, maximum = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
    policy = str(info.get("maxmemory_policy", "?"))
    if not maximum:
        report.warn(
            _(
                "Memory {used}, no maxmemory set (policy {policy}): Redis grows until the host runs out",
                used=human_bytes(used),
                policy=policy,
            ),
            Fix.REDIS_MEMORY,
        )
        return
    ratio = used / maximum
    level = level_for(ratio)
    # With noeviction a full Redis rejects writes (OOM) instead of evicting: critical earlier.
    if policy == "noeviction" and ratio >= 0.9:
        level = Level.CRIT
    report.add(
        level,
        _(
            "Memory {used} of maxmemory {maximum} ({share} %), policy {policy}",
            used=human_bytes(used),
            maximum=human_bytes(maximum),
            share=f"{percent(used, maximum):.0f}",
            policy=policy,
        ),
        Fix.REDIS_MEMORY,
    )


def evaluate_stats(report: Report, info: dict[str, Any]) -> None:
    evicted = int(info.get("evicted_keys", 0))
    if evicted:
        report.warn(_("{n} keys evicted since start: memory is full", n=evicted), Fix.REDIS_MEMORY)
    else:
        report.ok(_("No keys evicted"))
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    lookups = hits + misses
    if lookups < MIN_LOOKUPS:
        report.ok(_("Hit rate: too few lookups to judge ({n})", n=lookups))
        return
    rate = _(
        "Hit rate {share} % ({hits} hits / {lookups} lookups)",
        share=f"{percent(hits, lookups):.1f}",
        hits=hits,
        lookups=lookups,
    )
    if hits / lookups < LOW_HIT_RATE:
        report.warn(rate, Fix.REDIS_HIT_RATE)
    else:
        report.ok(rate)


def _detail(info: dict[str, Any]) -> str:
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    keyspace = ", ".join(
        f"{k}: {v.get('keys', '?')} keys"
        for k, v in info.items()
        if k.startswith("db") and isinstance(v, dict)
    )
    return format_pairs(
        [
            ("redis_version", info.get("redis_version")),
            ("uptime", f"{int(info.get('uptime_in_seconds', 0)) // 3600} h"),
            ("ping", ", ".join(f"{ms:.2f}" for ms in info["pings_ms"]) + " ms"),
            ("connected_clients", info.get("connected_clients")),
            ("maxclients", info.get("maxclients")),
            ("blocked_clients", info.get("blocked_clients")),
            ("rejected_connections", info.get("rejected_connections")),
            ("used_memory", human_bytes(int(info.get("used_memory", 0)))),
            ("used_memory_peak", human_bytes(int(info.get("used_memory_peak", 0)))),
            ("used_memory_rss", human_bytes(int(info.get("used_memory_rss", 0)))),
            (
                "maxmemory",
                human_bytes(int(info.get("maxmemory", 0))) if info.get("maxmemory") else "0 (unlimited)",
            ),
            ("maxmemory_policy", info.get("maxmemory_policy")),
            ("mem_fragmentation_ratio", info.get("mem_fragmentation_ratio")),
            ("evicted_keys", info.get("evicted_keys")),
            ("expired_keys", info.get("expired_keys")),
            ("keyspace_hits / misses", f"{hits} / {misses}"),
            ("keyspace", keyspace or "empty"),
        ]
    )


def _data(info: dict[str, Any]) -> dict[str, Any]:
    names = (
        "connected_clients",
        "maxclients",
        "used_memory",
        "maxmemory",
        "maxmemory_policy",
        "evicted_keys",
    )
    data = {name: info.get(name) for name in names}
    data.update(ping_ms=round(float(info["ping_ms"]), 2), keyspace_hits=info.get("keyspace_hits"))
    data["ping_ms_worst"] = round(float(info["ping_ms_worst"]), 2)
    data["keyspace_misses"] = info.get("keyspace_misses")
    return data


def _check(*parts: Callable[[Report, dict[str, Any]], None]) -> Callable[[CheckContext], Report]:
    def run(ctx: CheckContext) -> Report:
        info = gather(ctx)
        report = Report(detail=_detail(info), data=_data(info))
        for part in parts:
            part(report, info)
        return report

    return run


def _c(name: str, func: Callable[[CheckContext], Report], summary: str, guide: str) -> Check:
    return Check(name, func, summary, guide=guide, max_args=0, options=())


ADAPTER = Adapter(
    name="redis",
    summary=N_("Redis ping, clients, memory and policy, evictions, hit rate"),
    target_kind="redis",
    timeout_fix=Fix.DEPENDENCY,
    default_check="status",
    checks={
        "status": _c(
            "status",
            _check(evaluate_ping, evaluate_clients, evaluate_memory, evaluate_stats),
            N_("all of the below in one card"),
            "redis-cli ping; info clients; info memory",
        ),
        "ping": _c(
            "ping",
            _check(evaluate_ping),
            N_("PING latency: median and worst of 5"),  # 5 = PINGS
            "redis-cli ping",
        ),
        "clients": _c(
            "clients",
            _check(evaluate_clients),
            N_("connected clients vs maxclients (≥ 80 % warns)"),
            "redis-cli info clients; config get maxclients",
        ),
        "memory": _c(
            "memory",
            _check(evaluate_memory),
            N_("used memory vs maxmemory and the eviction policy"),
            "redis-cli info memory",
        ),
        "stats": _c(
            "stats", _check(evaluate_stats), N_("evictions and cache hit rate"), "redis-cli info stats"
        ),
    },
)
