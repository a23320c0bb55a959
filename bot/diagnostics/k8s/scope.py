"""One deployment's share of a namespace — its pods and ReplicaSets — so a check can look at a service
instead of everything that runs beside it (`/diag triage` of one service must not go red for another's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.diagnostics.base import CheckContext
from bot.diagnostics.k8s.client import apps_api, core_api, get_json, read_deployment, validate_name
from bot.diagnostics.k8s.fields import deployment_of, selector_text
from bot.i18n import N_, _


@dataclass(frozen=True)
class DeploymentScope:
    name: str
    namespace: str
    pods: list[dict[str, Any]]
    replica_sets: frozenset[str]

    def covers(self, obj: dict[str, Any]) -> bool:
        """Is an event's involvedObject this deployment, one of its ReplicaSets or one of their pods
        (current or gone: a pod's name starts with its ReplicaSet's)?"""
        kind, name = obj.get("kind"), str(obj.get("name") or "")
        if kind == "Deployment":
            return name == self.name
        if kind == "ReplicaSet":
            return name in self.replica_sets
        if kind == "Pod":
            current = {pod["metadata"]["name"] for pod in self.pods}
            return name in current or any(name.startswith(f"{rs}-") for rs in self.replica_sets)
        return False


def deployment_option(ctx: CheckContext) -> str | None:
    raw = ctx.options.get("deployment")
    return validate_name(raw, N_("deployment name")) if raw else None


def owned_replica_sets(ctx: CheckContext, deployment: dict[str, Any], ns: str) -> list[dict[str, Any]]:
    """The ReplicaSets this deployment owns (its selector, then its uid among their owners)."""
    name = deployment["metadata"]["name"]
    listing = get_json(
        ctx,
        _("replicasets of {name}", name=name),
        apps_api(ctx).list_namespaced_replica_set,
        ns,
        label_selector=selector_text(deployment["spec"]["selector"]),
    )
    uid = deployment["metadata"].get("uid")
    return [
        rs
        for rs in listing.get("items", [])
        if any(
            o.get("uid") == uid and o.get("kind") == "Deployment"
            for o in rs["metadata"].get("ownerReferences") or []
        )
    ]


def deployment_pods(ctx: CheckContext, deployment: dict[str, Any], ns: str) -> list[dict[str, Any]]:
    """Its pods: the selector, as kubectl, minus pods another deployment owns through overlapping labels."""
    name = deployment["metadata"]["name"]
    listing = get_json(
        ctx,
        _("pods of deployment {name}", name=name),
        core_api(ctx).list_namespaced_pod,
        ns,
        label_selector=selector_text(deployment["spec"]["selector"]),
    )
    found = [pod for pod in listing.get("items", []) if deployment_of(pod) in (name, None)]
    return sorted(found, key=lambda pod: pod["metadata"]["name"])


def deployment_scope(ctx: CheckContext, name: str, ns: str) -> DeploymentScope:
    deployment = read_deployment(ctx, name, ns)
    replica_sets = frozenset(rs["metadata"]["name"] for rs in owned_replica_sets(ctx, deployment, ns))
    return DeploymentScope(name, ns, deployment_pods(ctx, deployment, ns), replica_sets)
