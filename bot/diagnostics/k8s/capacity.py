"""kubectl top pods and kubectl get nodes: usage against limits, node readiness and pressure."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Level,
    Report,
    level_for,
)
from bot.diagnostics.k8s.client import call, core_api, custom_api, get_json, namespaces_of, target_of
from bot.diagnostics.k8s.fields import age_since, format_bytes, format_cores, quantity, scoped, table
from bot.i18n import _

_PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


# ----------------------------------------------------------------------------------------- top
def top(ctx: CheckContext) -> Report:
    """kubectl top pods, from metrics.k8s.io, with memory and CPU against each pod's limits."""
    namespaces = namespaces_of(ctx)
    report, rows, many = Report(), [], len(namespaces) > 1
    for ns in namespaces:
        metrics = _pod_metrics(ctx, ns)
        if metrics is None:
            report.warn(
                _(
                    "the metrics API (metrics.k8s.io) is not available in this cluster, so there is no "
                    "`kubectl top` either"
                ),
                _(
                    "install metrics-server (kubectl apply -f {url}), or use /diag docker stats or CloudWatch",
                    url="https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml",
                ),
            )
            return report
        limits = _pod_limits(ctx, ns)
        rows += [_top_row(ns, item, limits.get(item["metadata"]["name"], {})) for item in metrics]
    rows.sort(key=lambda r: -(r["memory"] or 0))
    for row in rows:
        _top_findings(report, row, many)
    if not any(f.level is not Level.OK for f in report.findings):
        report.ok(
            _(
                "{n} pods use {cpu} CPU and {memory} memory, all under 80 % of their limits",
                n=len(rows),
                cpu=format_cores(sum((r["cpu"] for r in rows), Decimal(0))),
                memory=format_bytes(sum((r["memory"] for r in rows), Decimal(0))),
            )
        )
    report.detail = table(
        ["NAMESPACE"] * many + ["NAME", "CPU(cores)", "CPU%LIMIT", "MEMORY(bytes)", "MEM%LIMIT"],
        (
            [r["namespace"]] * many
            + [
                r["name"],
                format_cores(r["cpu"]),
                _percent(r["cpu_ratio"]),
                format_bytes(r["memory"]),
                _percent(r["memory_ratio"]),
            ]
            for r in rows
        ),
    )
    report.data["pods"] = [
        {
            "namespace": r["namespace"],
            "name": r["name"],
            "cpu": float(r["cpu"]),
            "memory": float(r["memory"]),
            "memory_ratio": r["memory_ratio"],
            "cpu_ratio": r["cpu_ratio"],
        }
        for r in rows
    ]
    return report


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.0f}%"


def _pod_metrics(ctx: CheckContext, ns: str) -> list[dict[str, Any]] | None:
    """PodMetrics of a namespace; None when the metrics API is not installed (404) or down (503)."""
    raw = call(
        ctx,
        _("pod metrics in {namespace}", namespace=ns),
        custom_api(ctx).list_namespaced_custom_object,
        "metrics.k8s.io",
        "v1beta1",
        ns,
        "pods",
        absent=(404, 503),  # 404: the API group is not registered; 503: metrics-server is down
    )
    if raw is None:
        return None
    return list(json.loads(raw).get("items", []))


def _pod_limits(ctx: CheckContext, ns: str) -> dict[str, dict[str, Decimal | None]]:
    """Per pod: the sum of its containers' cpu/memory limits, None when any container has none."""
    listing = get_json(ctx, _("pods in {namespace}", namespace=ns), core_api(ctx).list_namespaced_pod, ns)
    limits: dict[str, dict[str, Decimal | None]] = {}
    for pod in listing.get("items", []):
        totals: dict[str, Decimal | None] = {}
        for resource in ("cpu", "memory"):
            values = [
                quantity(((c.get("resources") or {}).get("limits") or {}).get(resource))
                for c in pod["spec"].get("containers", [])
            ]
            totals[resource] = sum(values, Decimal(0)) if values and None not in values else None  # type: ignore[arg-type]
        limits[pod["metadata"]["name"]] = totals
    return limits


def _top_row(ns: str, item: dict[str, Any], limits: dict[str, Decimal | None]) -> dict[str, Any]:
    cpu = sum((quantity(c["usage"].get("cpu")) or Decimal(0) for c in item.get("containers", [])), Decimal(0))
    memory = sum(
        (quantity(c["usage"].get("memory")) or Decimal(0) for c in item.get("containers", [])), Decimal(0)
    )
    cpu_limit, memory_limit = limits.get("cpu"), limits.get("memory")
    return {
        "namespace": ns,
        "name": item["metadata"]["name"],
        "cpu": cpu,
        "memory": memory,
        "cpu_ratio": float(cpu / cpu_limit) if cpu_limit else None,
        "memory_ratio": float(memory / memory_limit) if memory_limit else None,
        "memory_limit": memory_limit,
    }


def _top_findings(report: Report, row: dict[str, Any], many: bool) -> None:
    name = scoped(row["name"], row["namespace"], many)
    deployment = row["name"].rsplit("-", 2)[0]
    if row["memory_ratio"] is not None:
        level = level_for(row["memory_ratio"], warn=0.8, crit=0.9)
        if level is not Level.OK:
            report.add(
                level,
                _(
                    "pod {name} uses {percent} of its memory limit ({used} of {limit})",
                    name=name,
                    percent=_percent(row["memory_ratio"]),
                    used=format_bytes(row["memory"]),
                    limit=format_bytes(row["memory_limit"]),
                ),
                _(
                    "{fix}: raise the limit or find the leak (/diag k8s logs {pod}); /remediate k8s restart {deployment}",
                    fix=_(Fix.OOM),
                    pod=row["name"],
                    deployment=deployment,
                ),
            )
    if row["cpu_ratio"] is not None and row["cpu_ratio"] >= 0.9:
        report.warn(
            _(
                "pod {name} uses {percent} of its CPU limit: it is being throttled",
                name=name,
                percent=_percent(row["cpu_ratio"]),
            ),
            _(
                "{fix}; raise the CPU limit or scale out: /remediate k8s scale {deployment} <n>",
                fix=_(Fix.HTTP_504),
                deployment=deployment,
            ),
        )


# --------------------------------------------------------------------------------------- nodes
def _node_fix(problem: str) -> str:
    """The guide's fix for a node condition, in the language in force."""
    if problem == "DiskPressure":
        return _(
            "{fix}: `docker system prune -a -f`, `journalctl --vacuum-time=7d`, or grow the EBS volume: "
            "/remediate aws ebs-grow <volume> <GiB>",
            fix=_(Fix.DISK),
        )
    if problem == "MemoryPressure":
        return _("move or restart memory-hungry pods (/diag k8s top); {fix}", fix=_(Fix.OOM))
    if problem == "PIDPressure":
        return _("a process forks without bound: find it (/diag k8s top) and restart it")
    if problem == "NetworkUnavailable":
        return _("the node's network is not configured: {fix}", fix=_(Fix.NETWORK))
    return _("check the kubelet and the instance (/diag aws ec2 <instance>); drain and replace the node")


def _instance_of(node: dict[str, Any]) -> str | None:
    provider = node.get("spec", {}).get("providerID") or ""
    return provider.rsplit("/", 1)[-1] if provider.startswith("aws://") else None


def nodes(ctx: CheckContext) -> Report:
    """kubectl get nodes, with NotReady and Memory/Disk/PID pressure flagged."""
    target_of(ctx)
    listing = get_json(ctx, _("nodes"), core_api(ctx).list_node)
    report, rows = Report(), []
    for node in listing.get("items", []):
        name = node["metadata"]["name"]
        problems = _node_problems(node)
        instance = _instance_of(node)
        for problem in problems:
            fix = _node_fix(problem)
            if instance:
                fix = fix.replace("<instance>", instance)
            report.crit(
                _("node {name}: {problem}", name=name, problem=problem)
                + (f" ({instance})" if instance else ""),
                fix,
            )
        if node.get("spec", {}).get("unschedulable"):
            report.warn(
                _("node {name} is cordoned (SchedulingDisabled)", name=name),
                _("uncordon it when maintenance is done"),
            )
        roles = [
            k.split("/", 1)[1]
            for k in node["metadata"].get("labels", {})
            if k.startswith("node-role.kubernetes.io/")
        ]
        ready = "NotReady" not in problems
        rows.append(
            [
                name,
                ("Ready" if ready else "NotReady")
                + (",SchedulingDisabled" if node["spec"].get("unschedulable") else ""),
                ",".join(roles) or "<none>",
                age_since(node["metadata"].get("creationTimestamp")),
                node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""),
                ",".join(p for p in problems if p != "NotReady") or "-",
            ]
        )
    if not report.findings:
        report.ok(_("all {n} nodes Ready, no memory, disk or PID pressure", n=len(rows)))
    report.detail = table(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "PRESSURE"], rows)
    report.data["nodes"] = {row[0]: row[5] for row in rows}
    return report


def _node_problems(node: dict[str, Any]) -> list[str]:
    problems = []
    for condition in node.get("status", {}).get("conditions") or []:
        kind, status = condition.get("type"), condition.get("status")
        if kind == "Ready" and status != "True":
            problems.append("NotReady")
        elif kind in _PRESSURES and status == "True":
            problems.append(str(kind))
    return problems
