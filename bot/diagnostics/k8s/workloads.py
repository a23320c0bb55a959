"""kubectl rollout status and history of a deployment, from its ReplicaSets."""

from __future__ import annotations

from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Level,
    Report,
    clean_line,
)
from bot.diagnostics.k8s.client import (
    REVISION,
    namespace_of,
    read_deployment,
    strip_kind,
    validate_name,
)
from bot.diagnostics.k8s.fields import age_since, table
from bot.diagnostics.k8s.scope import owned_replica_sets
from bot.i18n import N_, _


# ------------------------------------------------------------------------------------- rollout
def rollout(ctx: CheckContext) -> Report:
    """kubectl rollout status + history: stuck = Progressing false / ProgressDeadlineExceeded / unavailable."""
    name = validate_name(strip_kind(ctx.arg(0, N_("deployment name"))), N_("deployment name"))
    ns = namespace_of(ctx)
    deployment = read_deployment(ctx, name, ns)
    owned = owned_replica_sets(ctx, deployment, ns)
    owned.sort(key=_revision, reverse=True)
    report = Report()
    _rollout_findings(report, deployment, owned, ns)
    report.detail = _rollout_detail(deployment, owned)
    report.data.update(
        deployment=name,
        namespace=ns,
        revision=_revision(deployment),
        revisions=[_revision(rs) for rs in owned],
        stuck=report.level is Level.CRIT,
    )
    return report


def _revision(obj: dict[str, Any]) -> int:
    raw = (obj["metadata"].get("annotations") or {}).get(REVISION, "0")
    return int(raw) if str(raw).isdigit() else 0


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c.get("type") == kind), {})


def _rollout_findings(
    report: Report, deployment: dict[str, Any], owned: list[dict[str, Any]], ns: str
) -> None:
    name, spec, status = deployment["metadata"]["name"], deployment["spec"], deployment.get("status", {})
    desired = int(spec.get("replicas", 1))
    updated, available = int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0)
    unavailable, ready = int(status.get("unavailableReplicas") or 0), int(status.get("readyReplicas") or 0)
    progressing = _condition(deployment, "Progressing")
    previous = next((_revision(rs) for rs in owned if _revision(rs) < _revision(deployment)), None)
    undo = f"kubectl rollout undo deployment/{name} -n {ns}" + (
        f" --to-revision={previous}" if previous else ""
    )
    stuck_fix = _(
        "the new pods do not become ready: /diag k8s pods, /diag k8s logs deployment/{name} previous=true, "
        "/diag k8s events; roll back (回滚操作: {undo}) or fix and redeploy",
        name=name,
        undo=undo,
    )
    if progressing.get("reason") == "ProgressDeadlineExceeded" or progressing.get("status") == "False":
        report.crit(
            _(
                "rollout of {name} is stuck: {reason} — {message} ({updated} of {desired} updated, {unavailable} unavailable)",
                name=name,
                reason=progressing.get("reason") or _("not progressing"),
                message=progressing.get("message", ""),
                updated=updated,
                desired=desired,
                unavailable=unavailable,
            ),
            stuck_fix,
        )
    elif spec.get("paused"):
        report.warn(
            _("rollout of {name} is paused", name=name),
            _("resume it when ready: kubectl rollout resume deployment/{name}", name=name),
        )
    elif int(status.get("observedGeneration") or 0) < int(deployment["metadata"].get("generation") or 0):
        report.warn(_("rollout of {name}: waiting for the controller to see the new spec", name=name))
    elif updated < desired or unavailable:
        report.warn(
            _(
                "rollout of {name} in progress: {updated} of {desired} updated, {unavailable} unavailable",
                name=name,
                updated=updated,
                desired=desired,
                unavailable=unavailable,
            ),
            stuck_fix,
        )
    if available == 0 and desired > 0:
        report.crit(
            _("deployment {name} has no available replicas: the service is down", name=name), Fix.HTTP_502
        )
    if report.level is Level.OK:
        report.ok(
            _(
                "rollout of {name} is complete: revision {revision}, {ready}/{desired} ready",
                name=name,
                revision=_revision(deployment),
                ready=ready,
                desired=desired,
            )
        )


def _rollout_detail(deployment: dict[str, Any], owned: list[dict[str, Any]]) -> str:
    status = deployment.get("status", {})
    lines = [
        f"deployment/{deployment['metadata']['name']}  revision {_revision(deployment)}  "
        f"replicas {deployment['spec'].get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
        f"{status.get('readyReplicas', 0)} ready | {status.get('availableReplicas', 0)} available | "
        f"{status.get('unavailableReplicas', 0)} unavailable",
        "",
        table(
            ["TYPE", "STATUS", "REASON", "MESSAGE"],
            (
                [
                    c.get("type", ""),
                    c.get("status", ""),
                    c.get("reason", ""),
                    clean_line(c.get("message", ""), 100),
                ]
                for c in status.get("conditions") or []
            ),
        ),
        "",
        "History:",
        table(
            ["REVISION", "REPLICASET", "IMAGES", "READY", "AGE", "CHANGE-CAUSE"],
            (
                [
                    str(_revision(rs)),
                    rs["metadata"]["name"],
                    clean_line(
                        ",".join(c.get("image", "") for c in rs["spec"]["template"]["spec"]["containers"]),
                        100,
                    ),
                    f"{rs.get('status', {}).get('readyReplicas', 0)}/{rs['spec'].get('replicas', 0)}",
                    age_since(rs["metadata"].get("creationTimestamp")),
                    clean_line(
                        (rs["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause", "<none>"),
                        100,
                    ),
                ]
                for rs in owned
            ),
        ),
    ]
    return "\n".join(lines)
