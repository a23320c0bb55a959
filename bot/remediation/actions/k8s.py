"""Kubernetes: `restart <deployment>` (kubectl rollout restart) and `scale <deployment> <n>` (kubectl scale).

Restart is what kubectl does: a strategic-merge PATCH of the pod template's
`kubectl.kubernetes.io/restartedAt` annotation, so the deployment's own strategy replaces the pods.
Scale is a merge PATCH of the `scale` subresource, within `remediation.scale` of the policy.
Both read the deployment first through the diagnostics adapter's cached client and its
namespace rules (`ns=` must be one of the target's namespaces).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.config.policy import Policy
from bot.diagnostics import k8s as diag
from bot.diagnostics.base import CheckContext, CheckFailed, UsageError
from bot.i18n import N_, _
from bot.remediation.actions.base import (
    Action,
    ActionContext,
    Applied,
    Change,
    Preview,
    Refused,
    whole_number,
)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


# ---------------------------------------------------------------------------------- validation
def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_name(diag.strip_kind(args[0]), "deployment name")
    if len(args) > 1:
        whole_number(args[1], N_("The number of replicas"))
    for key in ("ns", "namespace"):
        if key in options:
            diag.validate_label(options[key])


def scale_bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    bounds = policy.remediation.scale
    wanted = whole_number(args[1], N_("The number of replicas"))
    if not bounds.min <= wanted <= bounds.max:
        raise Refused(
            "out_of_bounds",
            _(
                "{wanted} replicas is out of bounds: `k8s scale` may set {min} to {max} replicas (`remediation.scale.min`/`max` in the YAML policy).",
                wanted=wanted,
                min=bounds.min,
                max=bounds.max,
            ),
        )


# --------------------------------------------------------------------------------- API access
def _where(ctx: ActionContext) -> tuple[CheckContext, str, str]:
    check = ctx.check()
    name = diag.strip_kind(ctx.args[0])
    return check, diag.namespace_of(check), name


def _read(check: CheckContext, ns: str, name: str) -> dict[str, Any]:
    return diag.read_deployment(check, name, ns)


def patch(
    check: CheckContext, what: str, func: Any, name: str, ns: str, body: dict, content_type: str
) -> dict:
    """One PATCH with the target's timeout; API failures in words an on-call engineer can act on."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        response = func(
            name,
            ns,
            body,
            _content_type=content_type,
            _request_timeout=check.timeout,
            _preload_content=False,
        )
        data: dict[str, Any] = json.loads(response.data or b"{}")
        return data
    except ApiException as exc:
        message = diag.status_message(exc.body) or exc.reason
        if exc.status == 404:
            raise UsageError(_("Not found: {message}.", message=message)) from None
        if exc.status == 403:
            raise CheckFailed(
                _("403 Forbidden to {what}: {message}", what=what, message=message),
                _(
                    "grant the bot's ServiceAccount `patch` on deployments and deployments/scale in its RBAC Role"
                ),
            ) from None
        if exc.status == 401:
            raise CheckFailed(
                _("401 Unauthorized to {what}", what=what), _("check the credentials in the kubeconfig")
            ) from None
        raise CheckFailed(
            _(
                "the Kubernetes API answered {status} to {what}: {message}",
                status=exc.status,
                what=what,
                message=message,
            )
        ) from None
    except urllib3.exceptions.NewConnectionError as exc:
        raise CheckFailed(
            _("Can't reach the Kubernetes API to {what}: {exc}", what=what, exc=exc), diag.UNREACHABLE_FIX
        ) from None
    except urllib3.exceptions.TimeoutError:
        raise TimeoutError(
            _(
                "the Kubernetes API did not answer ({what}) within {timeout:g} s",
                what=what,
                timeout=check.timeout,
            )
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        raise CheckFailed(
            _("Can't reach the Kubernetes API to {what}: {exc}", what=what, exc=exc), diag.UNREACHABLE_FIX
        ) from None


def _replicas(deployment: dict[str, Any]) -> int:
    value = (deployment.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)  # the API's default


def _facts(deployment: dict[str, Any], ns: str) -> list[tuple[str, str]]:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    template = spec.get("template") or {}
    images = ", ".join(
        str(c.get("image")) for c in (template.get("spec") or {}).get("containers") or [] if c.get("image")
    )
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    how = strategy.get("type") or "RollingUpdate"
    if how == "RollingUpdate" and rolling:
        how += f" (maxUnavailable {rolling.get('maxUnavailable', '25%')}, maxSurge {rolling.get('maxSurge', '25%')})"
    restarted = ((template.get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT)
    return [
        ("namespace", ns),
        ("replicas", _("{ready}/{replicas} ready, {updated} up to date, {available} available",
                       ready=status.get("readyReplicas", 0), replicas=_replicas(deployment),
                       updated=status.get("updatedReplicas", 0), available=status.get("availableReplicas", 0))),
        ("revision", str(((deployment.get("metadata") or {}).get("annotations") or {}).get(diag.REVISION, "?"))),
        ("image", images or "?"),
        ("strategy", how),
        ("last restart", restarted or _("never (by rollout restart)")),
    ]  # fmt: skip


def _same_object(ctx: ActionContext, deployment: dict[str, Any], ns: str, name: str) -> None:
    uid = (deployment.get("metadata") or {}).get("uid")
    if ctx.expect.get("uid") and uid != ctx.expect["uid"]:
        raise Refused(
            "changed",
            _(
                "Deployment {ns}/{name} was deleted and re-created since the preview; run the command again.",
                ns=ns,
                name=name,
            ),
        )


# ------------------------------------------------------------------------------------ restart
def restart_preview(ctx: ActionContext) -> Preview:
    check, ns, name = _where(ctx)
    deployment = _read(check, ns, name)
    replicas = _replicas(deployment)
    if replicas == 0:
        raise Refused(
            "no_change",
            _(
                "Deployment {ns}/{name} has 0 replicas: a restart would start nothing. Scale it up instead: `/remediate k8s scale {name} <n>`.",
                ns=ns,
                name=name,
            ),
        )
    template = (deployment.get("spec") or {}).get("template") or {}
    before = ((template.get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT) or "never"
    strategy = ((deployment.get("spec") or {}).get("strategy") or {}).get("type") or "RollingUpdate"
    note = (
        _("All pods stop before new ones start (strategy Recreate): expect a short outage.")
        if strategy == "Recreate"
        else _(
            "Pods are replaced one by one by the deployment's rolling update; follow it with `/diag k8s rollout {name}`.",
            name=name,
        )
    )
    return Preview(
        title=_("Rollout restart of deployment {ns}/{name}", ns=ns, name=name),
        changes=[
            Change(
                "pods", _("{n} running since their last rollout", n=replicas), _("{n} new pods", n=replicas)
            ),
            Change(RESTARTED_AT, before, _("the time of the confirm")),
        ],
        facts=_facts(deployment, ns),
        note=note,
        expect={"uid": (deployment.get("metadata") or {}).get("uid")},
    )


def restart_apply(ctx: ActionContext) -> Applied:
    check, ns, name = _where(ctx)
    deployment = _read(check, ns, name)
    _same_object(ctx, deployment, ns, name)
    template = (deployment.get("spec") or {}).get("template") or {}
    before = ((template.get("metadata") or {}).get("annotations") or {}).get(RESTARTED_AT) or "never"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    patched = patch(
        check, _("restart deployment {ns}/{name}", ns=ns, name=name), diag.apps_api(check).patch_namespaced_deployment, name, ns,
        body, STRATEGIC,
    )  # fmt: skip
    generation = (patched.get("metadata") or {}).get("generation")
    return Applied(
        summary=_("Rollout restart of deployment {ns}/{name} started", ns=ns, name=name),
        changes=[Change(RESTARTED_AT, before, stamp)],
        facts=[("namespace", ns), ("replicas", str(_replicas(patched))), ("generation", str(generation))],
        note=_(
            "New pods roll out now; follow with `/diag k8s rollout {name}` and `/diag k8s pods`.", name=name
        ),
        data={"namespace": ns, "deployment": name, "restartedAt": stamp, "generation": generation},
    )


# -------------------------------------------------------------------------------------- scale
def scale_preview(ctx: ActionContext) -> Preview:
    check, ns, name = _where(ctx)
    wanted = int(ctx.args[1])
    deployment = _read(check, ns, name)
    current = _replicas(deployment)
    if current == wanted:
        raise Refused(
            "no_change",
            _(
                "Deployment {ns}/{name} already has {wanted} replicas; nothing to change.",
                ns=ns,
                name=name,
                wanted=wanted,
            ),
        )
    if wanted == 0:
        note = _("Scaling to 0 stops every pod: the service is down until it is scaled up again.")
    elif wanted < current:
        note = _("{n} pod(s) will be stopped.", n=current - wanted)
    else:
        note = _(
            "{n} pod(s) will be started; check that the nodes have room (`/diag k8s nodes`).",
            n=wanted - current,
        )
    return Preview(
        title=_("Scale deployment {ns}/{name}", ns=ns, name=name),
        changes=[Change("replicas", str(current), str(wanted))],
        facts=_facts(deployment, ns),
        note=note,
        expect={"replicas": current, "uid": (deployment.get("metadata") or {}).get("uid")},
    )


def scale_apply(ctx: ActionContext) -> Applied:
    check, ns, name = _where(ctx)
    wanted = int(ctx.args[1])
    deployment = _read(check, ns, name)
    _same_object(ctx, deployment, ns, name)
    current = _replicas(deployment)
    shown = ctx.expect.get("replicas")
    body = {"spec": {"replicas": wanted}}
    scale = patch(
        check, _("scale deployment {ns}/{name}", ns=ns, name=name), diag.apps_api(check).patch_namespaced_deployment_scale, name, ns,
        body, MERGE,
    )  # fmt: skip
    now = (scale.get("spec") or {}).get("replicas", wanted)
    note = _("Follow the new pods with `/diag k8s pods`.")
    if shown is not None and shown != current:
        note = (
            _(
                "It had changed from {shown} to {current} replicas since the preview. ",
                shown=shown,
                current=current,
            )
            + note
        )
    return Applied(
        summary=_("Scaled deployment {ns}/{name} to {now} replicas", ns=ns, name=name, now=now),
        changes=[Change("replicas", str(current), str(now))],
        facts=[("namespace", ns)],
        note=note,
        data={"namespace": ns, "deployment": name, "before": current, "replicas": now},
    )


ACTIONS = (
    Action(
        kind="k8s",
        verb="restart",
        usage="<deployment> [ns=<namespace>]",
        summary=N_("rollout restart: replace the deployment's pods, one by one"),
        guide="kubectl rollout restart deployment/ecommerce-app -n ecommerce",
        args=1,
        options=("ns", "namespace"),
        validate=_validate,
        preview=restart_preview,
        apply=restart_apply,
    ),
    Action(
        kind="k8s",
        verb="scale",
        usage="<deployment> <replicas> [ns=<namespace>]",
        summary=N_("set the number of replicas (within remediation.scale)"),
        guide="kubectl scale deployment ecommerce-app --replicas=3 -n ecommerce",
        args=2,
        options=("ns", "namespace"),
        validate=_validate,
        bounds=scale_bounds,
        preview=scale_preview,
        apply=scale_apply,
    ),
)
