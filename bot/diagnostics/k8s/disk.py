"""Disk use per node — the guide's `df -h` — from each kubelet's stats summary (nodes/proxy).

`GET /api/v1/nodes/<node>/proxy/stats/summary` answers the node's root filesystem (`node.fs`) and the
container runtime's image filesystem (`node.runtime.imageFs`) in bytes, as `df` would; at 80 % a node
is flagged ⚠️, at 90 % ❌ (the kubelet's default eviction starts at 90 % of nodefs), each with the
guide's cleanups: images and stopped containers, old logs, then growing the volume.
"""

from __future__ import annotations

import json
from typing import Any

from bot.diagnostics.base import CheckContext, Level, Report
from bot.diagnostics.k8s.capacity import _instance_of
from bot.diagnostics.k8s.client import call, core_api, get_json, target_of
from bot.diagnostics.k8s.fields import format_bytes, table
from bot.i18n import N_, _

WARN, CRIT = 0.80, 0.90
_FIX = N_("free space: `/remediate docker prune` on the node's engine (docker system prune); old logs "
        "(`journalctl --vacuum-time=7d`, `find /var/log -name '*.log' -mtime +30 -delete`) on the host; "
        "or grow the volume: `/remediate aws ebs-grow <volume> <GiB>` then `resize2fs`")  # fmt: skip


def _fs(stats: dict[str, Any] | None) -> tuple[int, int] | None:
    """(used, capacity) bytes of one filesystem block of the summary."""
    if not stats or not stats.get("capacityBytes"):
        return None
    capacity = int(stats["capacityBytes"])
    used = int(stats.get("usedBytes") or capacity - int(stats.get("availableBytes") or 0))
    return used, capacity


def disk(ctx: CheckContext) -> Report:
    target_of(ctx)
    api = core_api(ctx)
    listing = get_json(ctx, _("nodes"), api.list_node)
    report, rows, data = Report(), [], {}
    for node in listing.get("items", []):
        name = node["metadata"]["name"]
        raw = call(ctx, _("the stats summary of node {name}", name=name), api.connect_get_node_proxy_with_path, name,
                   "stats/summary", absent=(404, 503))  # fmt: skip
        if raw is None:
            report.warn(
                _("node {name}: the kubelet's stats summary is not available", name=name),
                _("check the kubelet on that node"),
            )
            continue
        summary = json.loads(raw).get("node") or {}
        where = _("node {name}", name=name) + (f" ({_instance_of(node)})" if _instance_of(node) else "")
        for label, fs in (
            ("root fs", _fs(summary.get("fs"))),
            ("image fs", _fs((summary.get("runtime") or {}).get("imageFs"))),
        ):
            if fs is None:
                continue
            used, capacity = fs
            ratio = used / capacity
            data.setdefault(name, {})[label] = round(ratio * 100, 1)
            rows.append([name, label, format_bytes(used), format_bytes(capacity), f"{ratio:.0%}"])
            if ratio >= WARN:
                level = Level.CRIT if ratio >= CRIT else Level.WARN
                report.add(
                    level,
                    _(
                        "{where}: {fs} {percent} used ({used} of {size})",
                        where=where,
                        fs=label,
                        percent=f"{ratio:.0%}",
                        used=format_bytes(used),
                        size=format_bytes(capacity),
                    ),
                    _FIX,
                )
    if not report.findings:
        report.ok(_("all {n} nodes below {percent} disk use", n=len(data), percent=f"{WARN:.0%}"))
    report.detail = table(["NODE", "FS", "USED", "SIZE", "USE%"], rows)
    report.data["disk_percent"] = data
    return report
