"""Warning events, grouped by reason, each with the guide's advice."""

from __future__ import annotations

from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Level,
    Report,
    clean_line,
)
from bot.diagnostics.k8s.client import core_api, get_json, namespace_of, namespaces_of
from bot.diagnostics.k8s.fields import age_since, table
from bot.diagnostics.k8s.scope import deployment_option, deployment_scope
from bot.i18n import N_, _

# -------------------------------------------------------------------------------------- events
_EVENT_ADVICE: dict[str, tuple[Level, str]] = {
    "BackOff": (
        Level.CRIT,
        N_("a container keeps crashing: /diag k8s logs <pod> previous=true; fix config or memory limit"),
    ),
    "CrashLoopBackOff": (Level.CRIT, N_("a container keeps crashing: /diag k8s logs <pod> previous=true")),
    "OOMKilling": (Level.CRIT, Fix.OOM),
    "OOMKilled": (Level.CRIT, Fix.OOM),
    "FailedScheduling": (
        Level.WARN,
        N_(
            "not enough CPU/memory or a tainted node: /diag k8s nodes; add nodes (扩容实例) or lower the pod's requests"
        ),
    ),
    "Unhealthy": (
        Level.WARN,
        N_("a liveness/readiness probe fails: /diag k8s logs <pod>; check the app's health endpoint"),
    ),
    "Failed": (
        Level.CRIT,
        N_("a container could not start (often the image): check the image name, tag and pull secret"),
    ),
    "ErrImagePull": (Level.CRIT, N_("check the image name, tag and pull secret")),
    "FailedMount": (Level.WARN, N_("a volume, Secret or ConfigMap is missing or cannot be attached")),
    "FailedAttachVolume": (Level.WARN, N_("the volume is attached elsewhere or the node cannot reach it")),
    "FailedCreate": (Level.WARN, N_("the controller cannot create pods: check ResourceQuota / LimitRange")),
    "Evicted": (Level.WARN, N_("the node was under pressure: /diag k8s nodes")),
    "ProgressDeadlineExceeded": (Level.CRIT, N_("a rollout is stuck: /diag k8s rollout <deployment>")),
    "NodeNotReady": (Level.CRIT, N_("a node is down: /diag k8s nodes")),
}


def _event_time(event: dict[str, Any]) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("series") or {}).get("lastObservedTime")
        or event["metadata"].get("creationTimestamp")
        or ""
    )


def events(ctx: CheckContext) -> Report:
    """Warning events of the namespace(s), newest first, grouped by reason with the guide's fix;
    `deployment=` keeps those about that deployment, its ReplicaSets and their pods."""
    only = deployment_option(ctx)
    scope = deployment_scope(ctx, only, namespace_of(ctx)) if only else None
    namespaces = [scope.namespace] if scope else namespaces_of(ctx)
    core, many, found = core_api(ctx), len(namespaces) > 1, []
    for ns in namespaces:
        listing = get_json(
            ctx,
            _("events in {namespace}", namespace=ns),
            core.list_namespaced_event,
            ns,
            field_selector="type=Warning",
        )
        found += [
            (ns, e)
            for e in listing.get("items", [])
            if e.get("type", "Warning") == "Warning"
            and (scope is None or scope.covers(e.get("involvedObject") or {}))
        ]
    found.sort(key=lambda pair: _event_time(pair[1]), reverse=True)
    report = Report()
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for _ns, event in found:
        by_reason.setdefault(str(event.get("reason") or "Unknown"), []).append(event)
    for reason, group in by_reason.items():
        level, advice = _EVENT_ADVICE.get(reason, (Level.WARN, N_("see the events below: /diag k8s pods")))
        fix = _(advice)
        objects = sorted({e["involvedObject"].get("name", "?") for e in group})
        count = sum(int(e.get("count") or 1) for e in group)
        message = clean_line(group[0].get("message") or "", 200)
        # The advice names `<pod>`; fill in the object when the events are about one.
        fix = fix.replace("<pod>", objects[0]) if len(objects) == 1 else fix
        on = ", ".join(objects[:3]) + (" …" if len(objects) > 3 else "")
        report.add(
            level,
            _(
                "{reason} ×{count} on {objects}: {message}",
                reason=reason,
                count=count,
                objects=on,
                message=message,
            ),
            fix,
        )
    if not found:
        if scope:
            where = _("deployment {name} ({namespace})", name=scope.name, namespace=scope.namespace)
            report.ok(_("no warning events for {where}", where=where))
        else:
            report.ok(_("no warning events in {where}", where=", ".join(namespaces)))
    report.detail = table(
        ["NAMESPACE"] * many + ["LAST SEEN", "REASON", "OBJECT", "COUNT", "MESSAGE"],
        (
            [ns] * many
            + [
                age_since(_event_time(e)),
                str(e.get("reason")),
                _involved(e),
                str(e.get("count") or 1),
                clean_line(e.get("message") or "", 160),
            ]
            for ns, e in found[:50]
        ),
    )
    report.data["reasons"] = {reason: len(group) for reason, group in by_reason.items()}
    return report


def _involved(event: dict[str, Any]) -> str:
    obj = event.get("involvedObject") or {}
    return f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '?')}"
