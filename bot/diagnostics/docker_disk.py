"""`/diag docker df`: what `docker system df` shows — space used by images, containers, volumes and
build cache, and what a prune would free.

Kept out of docker.py so the docker adapter stays one module under the size limit; the registry adds
this check to the docker adapter.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from bot.diagnostics import docker
from bot.diagnostics.base import Check, CheckContext, Fix, Report, format_table, human_bytes, masked
from bot.i18n import N_, _

# The engine computes one disk usage at a time and answers a second caller 409 instead of queueing
# it. In this process, people asking at once share the one computation in flight (single flight);
# against another process's (a replica, a build's prune) we wait our turn, briefly.
# Engine 28 says so with a 500 and this text, not with a status of its own.
_BUSY_WAIT_SECONDS = 0.25
_in_flight: dict[str, Future[dict[str, Any]]] = {}
_in_flight_lock = threading.Lock()


def _usage(api: Any, ctx: CheckContext) -> dict[str, Any]:
    key = str(ctx.target.url)
    with _in_flight_lock:
        shared = _in_flight.get(key)
        if shared is None:
            mine: Future[dict[str, Any]] = Future()
            _in_flight[key] = mine
    if shared is not None:
        return shared.result(timeout=ctx.timeout * 0.8)  # its answer, or its error, is ours too
    try:
        usage = _usage_when_free(api, ctx)
    except BaseException as exc:
        mine.set_exception(exc)
        raise
    else:
        mine.set_result(usage)
        return usage
    finally:
        with _in_flight_lock:
            _in_flight.pop(key, None)


def _usage_when_free(api: Any, ctx: CheckContext) -> dict[str, Any]:
    import docker as docker_library

    deadline = time.monotonic() + ctx.timeout * 0.8
    while True:
        try:
            return api.df()
        except docker_library.errors.APIError as exc:
            busy = "already running" in str(exc.explanation or "")
            if not busy or time.monotonic() + _BUSY_WAIT_SECONDS >= deadline:
                raise
            time.sleep(_BUSY_WAIT_SECONDS)


def _df_rows(df: dict[str, Any]) -> list[tuple[str, int, int, int, int]]:
    """(type, total, active, size, reclaimable) as `docker system df` counts them."""
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []

    def volume_size(v: dict[str, Any]) -> int:
        return max(0, int((v.get("UsageData") or {}).get("Size") or 0))

    def volume_refs(v: dict[str, Any]) -> int:
        return int((v.get("UsageData") or {}).get("RefCount") or 0)

    return [
        ("Images", len(images), sum(1 for i in images if i.get("Containers", 0) > 0),
         int(df.get("LayersSize") or sum(i.get("Size", 0) for i in images)),
         sum(i.get("Size", 0) - i.get("SharedSize", 0) for i in images if i.get("Containers", 0) <= 0)),
        ("Containers", len(containers), sum(1 for c in containers if c.get("State") == "running"),
         sum(c.get("SizeRw", 0) for c in containers),
         sum(c.get("SizeRw", 0) for c in containers if c.get("State") != "running")),
        ("Local Volumes", len(volumes), sum(1 for v in volumes if volume_refs(v) > 0),
         sum(volume_size(v) for v in volumes), sum(volume_size(v) for v in volumes if volume_refs(v) == 0)),
        ("Build Cache", len(cache), sum(1 for b in cache if b.get("InUse")), sum(b.get("Size", 0) for b in cache),
         sum(b.get("Size", 0) for b in cache if not b.get("InUse") and not b.get("Shared"))),
    ]  # fmt: skip


def df(ctx: CheckContext) -> Report:
    """docker system df: space used by images, containers, volumes and build cache, and what prune frees."""
    with docker.engine(ctx) as api:
        usage = _usage(api, ctx)
    rows = _df_rows(usage)
    total = sum(r[3] for r in rows)
    reclaimable = sum(r[4] for r in rows)
    report = Report()
    if reclaimable >= 1024**3 and reclaimable >= total / 2:
        report.warn(
            _(
                "{free} of {total} Docker data is reclaimable",
                free=human_bytes(reclaimable),
                total=human_bytes(total),
            ),
            f"{_(Fix.DISK)}: `docker system prune -a -f`, `docker volume prune -f`",
        )
    else:
        report.ok(
            _(
                "Docker uses {total}; {free} reclaimable",
                total=human_bytes(total),
                free=human_bytes(reclaimable),
            )
        )
    report.detail = format_table(
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        [[kind, count, active, human_bytes(size), f"{human_bytes(free)} ({free * 100 // size if size else 0}%)"]
         for kind, count, active, size, free in rows],
    )  # fmt: skip
    report.data.update(total_bytes=total, reclaimable_bytes=reclaimable)
    return report


CHECK = Check(
    "df",
    masked(df),
    N_("disk used by images, containers, volumes, build cache"),
    guide="docker system df",
    max_args=0,
    options=(),
)
