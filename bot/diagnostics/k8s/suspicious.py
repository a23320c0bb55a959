"""`/diag k8s suspicious <pod|deployment/name>`: the access log of an nginx/ALB-logging pod (or of each
pod of a deployment, up to five) analysed as in `accesslog` — requests and 4xx/5xx per client IP,
top talkers, injection and probe counts."""

from __future__ import annotations

import json
from typing import Any

from bot.diagnostics.accesslog import DEFAULT_TAIL, analyze
from bot.diagnostics.base import CheckContext, Report, UsageError, clean, since_option, tail_option
from bot.diagnostics.k8s.client import call, core_api, namespace_of, parse_ref, read_deployment
from bot.diagnostics.k8s.scope import deployment_pods
from bot.i18n import N_, _

MAX_PODS = 5


def _pods(ctx: CheckContext, ns: str, kind: str, name: str) -> list[dict[str, Any]]:
    if kind in ("pod", "any"):
        raw = call(
            ctx, _("pod {name}", name=name), core_api(ctx).read_namespaced_pod, name, ns, absent=(404,)
        )
        if raw is not None:
            return [json.loads(raw)]
        if kind == "pod":
            raise UsageError(_("No pod `{name}` in namespace {namespace}.", name=name, namespace=ns))
    found = deployment_pods(ctx, read_deployment(ctx, name, ns, N_("pod or deployment")), ns)
    if not found:
        raise UsageError(_("Deployment `{name}` has no pods in {namespace}.", name=name, namespace=ns))
    return found[:MAX_PODS]


def suspicious(ctx: CheckContext) -> Report:
    kind, name = parse_ref(ctx.arg(0, N_("pod or deployment/<name>")))
    ns = namespace_of(ctx)
    tail, since = tail_option({"tail": str(DEFAULT_TAIL), **ctx.options}), since_option(ctx.options)
    lines: list[str] = []
    for pod in _pods(ctx, ns, kind, name):
        kwargs: dict[str, Any] = {"tail_lines": tail, "container": pod["spec"]["containers"][0]["name"]}
        if since:
            kwargs["since_seconds"] = since
        pod_name = pod["metadata"]["name"]
        raw = (
            call(
                ctx,
                _("logs of {pod}", pod=pod_name),
                core_api(ctx).read_namespaced_pod_log,
                pod_name,
                ns,
                **kwargs,
            )
            or b""
        )
        lines += clean(raw.decode("utf-8", errors="replace")).splitlines()
    report = analyze(lines, f"{ns}/{name}")
    report.data["namespace"] = ns
    return report
