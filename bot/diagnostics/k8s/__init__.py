"""`/diag k8s`: the guide's kubectl diagnostics, read-only, through the official `kubernetes` client.

kubectl get pods / logs / top pods, warning events, rollout status and history, node pressure.
Every call is a GET (the REST paths are listed in `API_PATHS`, for RBAC) with the per-call timeout,
and only the namespaces the target lists may be read. Responses are read as raw JSON (the API's own
field names, as kubectl shows them) instead of the generated models: the raw form survives server
versions newer than the client and needs no translation for the tables.
"""

from __future__ import annotations

from bot.diagnostics.base import Adapter, Check, masked
from bot.diagnostics.k8s.capacity import nodes, top
from bot.diagnostics.k8s.client import (
    API_PATHS,
    REVISION,
    UNREACHABLE_FIX,
    apps_api,
    load_library,
    namespace_of,
    read_deployment,
    status_message,
    strip_kind,
    validate_deployment,
    validate_label,
    validate_logs,
    validate_name,
    validate_ns_only,
    validate_scoped,
)
from bot.diagnostics.k8s.disk import disk
from bot.diagnostics.k8s.events import events
from bot.diagnostics.k8s.pods import logs, pods
from bot.diagnostics.k8s.suspicious import suspicious
from bot.diagnostics.k8s.workloads import rollout
from bot.i18n import N_

ADAPTER = Adapter(
    name="k8s",
    summary=N_("Kubernetes: pods, logs, top, warning events, rollouts and nodes (read-only)"),
    target_kind="k8s",
    default_check="pods",
    load=load_library,
    checks={
        "pods": Check(
            "pods",
            masked(pods),
            N_("pods with not-ready, CrashLoopBackOff and restarts flagged"),
            usage="[ns=<namespace>] [deployment=<name>]",
            guide="kubectl get pods -n ecommerce",
            max_args=0,
            options=("ns", "namespace", "deployment"),
            validate=validate_scoped,
        ),
        "logs": Check(
            "logs",
            masked(logs),
            N_("recent log lines of a pod or deployment, error lines counted"),
            usage="<pod|deployment/name> [tail=100] [since=10m] [grep=error] [previous=true] [container=c]",
            guide="kubectl logs deployment/ecommerce-app -n ecommerce --tail=100",
            min_args=1,
            max_args=1,
            options=("tail", "since", "grep", "previous", "container", "ns", "namespace"),
            validate=validate_logs,
        ),
        "top": Check(
            "top",
            masked(top),
            N_("CPU and memory per pod against their limits (metrics.k8s.io)"),
            usage="[ns=<namespace>]",
            guide="kubectl top pods -n ecommerce",
            max_args=0,
            options=("ns", "namespace"),
            validate=validate_ns_only,
        ),
        "events": Check(
            "events",
            masked(events),
            N_("warning events, grouped by reason"),
            usage="[ns=<namespace>] [deployment=<name>]",
            guide="kubectl get events --field-selector type=Warning",
            max_args=0,
            options=("ns", "namespace", "deployment"),
            validate=validate_scoped,
        ),
        "rollout": Check(
            "rollout",
            masked(rollout),
            N_("rollout status and revision history of a deployment"),
            usage="<deployment> [ns=<namespace>]",
            guide="kubectl rollout status deployment/ecommerce-app -n ecommerce",
            min_args=1,
            max_args=1,
            options=("ns", "namespace"),
            validate=validate_deployment,
        ),
        "suspicious": Check(
            "suspicious",
            masked(suspicious),
            N_(
                "access log (nginx/ALB) of a pod or deployment: requests and 4xx/5xx per IP, top talkers, "
                "injection and probe counts"
            ),
            usage="<pod|deployment/name> [tail=1000] [since=1h] [ns=<namespace>]",
            guide="grep -E \"(404|403|500)\" access.log | cut -d' ' -f1 | sort | uniq -c | sort -rn",
            min_args=1,
            max_args=1,
            options=("tail", "since", "ns", "namespace"),
            validate=validate_logs,
        ),
        "disk": Check(
            "disk",
            masked(disk),
            N_("disk use per node (kubelet stats summary), ≥ 80 % flagged, with the guide's cleanups"),
            guide="df -h",
            max_args=0,
            options=(),
        ),
        "nodes": Check(
            "nodes",
            masked(nodes),
            N_("nodes with NotReady and memory/disk/PID pressure flagged"),
            guide="kubectl get nodes",
            max_args=0,
            options=(),
        ),
    },
)

# The public face: what remediation and the RBAC manifests use, besides the adapter itself.
__all__ = [
    "ADAPTER",
    "API_PATHS",
    "REVISION",
    "UNREACHABLE_FIX",
    "apps_api",
    "namespace_of",
    "read_deployment",
    "status_message",
    "strip_kind",
    "validate_label",
    "validate_name",
]
