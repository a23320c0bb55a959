"""Kubernetes: `rollback <deployment> [revision]` — the guide's step 3 回滚, `kubectl rollout undo`.

What kubectl does: find the deployment's ReplicaSet of the wanted revision (the previous one by
default), and replace the deployment's pod template with that ReplicaSet's (without its
pod-template-hash label), as one JSON patch that first tests the deployment's uid and
resourceVersion — so a deployment changed since the preview is not rolled back blindly. The
controller then rolls out that template and gives the old ReplicaSet the next revision number.
The preview shows both images and the revision's age; revisions older than
`remediation.bounds.rollback_max_age` are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.diagnostics import k8s as diag
from bot.diagnostics.base import UsageError
from bot.diagnostics.k8s.client import get_json
from bot.diagnostics.k8s.fields import age_since, selector_text
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
from bot.remediation.actions.k8s import patch

JSON_PATCH = "application/json-patch+json"
HASH_LABEL = "pod-template-hash"


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_name(diag.strip_kind(args[0]), "deployment name")
    if (
        len(args) > 1
        and whole_number(args[1], N_("The revision (from `/diag k8s rollout <deployment>`)")) < 1
    ):
        raise UsageError(_("Revisions start at 1."))
    for key in ("ns", "namespace"):
        if key in options:
            diag.validate_label(options[key])


def _revision(obj: dict[str, Any]) -> int:
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(diag.REVISION, "0")
    return int(raw) if str(raw).isdigit() else 0


def _images(template: dict[str, Any]) -> str:
    containers = (template.get("spec") or {}).get("containers") or []
    return ", ".join(str(c.get("image")) for c in containers) or "?"


def _read(ctx: ActionContext) -> tuple[str, str, dict[str, Any], list[dict[str, Any]]]:
    check = ctx.check()
    ns, name = diag.namespace_of(check), diag.strip_kind(ctx.args[0])
    deployment = diag.read_deployment(check, name, ns)
    listing = get_json(check, _("replicasets of {name}", name=name), diag.apps_api(check).list_namespaced_replica_set, ns,
                       label_selector=selector_text(deployment["spec"]["selector"]))  # fmt: skip
    uid = deployment["metadata"].get("uid")
    owned = [rs for rs in listing.get("items", [])
             if any(o.get("uid") == uid and o.get("kind") == "Deployment" for o in rs["metadata"].get("ownerReferences") or [])]  # fmt: skip
    return ns, name, deployment, sorted(owned, key=_revision)


def _choose(
    ctx: ActionContext, name: str, deployment: dict[str, Any], owned: list[dict[str, Any]]
) -> dict[str, Any]:
    current = _revision(deployment)
    known = ", ".join(str(_revision(rs)) for rs in owned) or "none"
    if len(ctx.args) > 1:
        wanted = int(ctx.args[1])
        if wanted == current:
            raise Refused(
                "no_change",
                _("Deployment {name} is at revision {current} already.", name=name, current=current),
            )
        found = next((rs for rs in owned if _revision(rs) == wanted), None)
        if found is None:
            raise Refused(
                "not_found",
                _(
                    "Deployment {name} has no revision {wanted} (known: {known}).",
                    name=name,
                    wanted=wanted,
                    known=known,
                ),
            )
    else:
        older = [rs for rs in owned if _revision(rs) < current]
        if not older:
            raise Refused(
                "no_change",
                _(
                    "Deployment {name} has no revision before {current} to roll back to (known: {known}).",
                    name=name,
                    current=current,
                    known=known,
                ),
            )
        found = older[-1]
    created = _created(found)
    limit = ctx.policy.remediation.bounds.rollback_max_age
    if created is not None and datetime.now(UTC) - created > limit:
        raise Refused(
            "out_of_bounds",
            _(
                "Revision {revision} of {name} is {age} old, older than {days} d "
                "(`remediation.bounds.rollback_max_age`): deploy it on purpose instead.",
                revision=_revision(found),
                name=name,
                age=age_since(found["metadata"].get("creationTimestamp")),
                days=limit.days,
            ),
        )
    return found


def _created(obj: dict[str, Any]) -> datetime | None:
    raw = (obj.get("metadata") or {}).get("creationTimestamp")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None


def _template_of(rs: dict[str, Any]) -> dict[str, Any]:
    template = dict(rs["spec"]["template"])
    meta = dict(template.get("metadata") or {})
    meta["labels"] = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    template["metadata"] = meta
    return template


def rollback_preview(ctx: ActionContext) -> Preview:
    ns, name, deployment, owned = _read(ctx)
    target = _choose(ctx, name, deployment, owned)
    current, wanted = _revision(deployment), _revision(target)
    cause = ((target["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause")) or "-"
    return Preview(
        title=_("Roll back deployment {ns}/{name} to revision {wanted}", ns=ns, name=name, wanted=wanted),
        changes=[
            Change("image", _images(deployment["spec"]["template"]), _images(target["spec"]["template"])),
            Change(
                "revision",
                str(current),
                _(
                    "{revision} (ReplicaSet {replicaset}, {age} old)",
                    revision=wanted,
                    replicaset=target["metadata"]["name"],
                    age=age_since(target["metadata"].get("creationTimestamp")),
                ),
            ),
        ],
        facts=[
            ("namespace", ns),
            ("replicas", str(deployment["spec"].get("replicas", 1))),
            ("change cause", cause),
            ("revisions", ", ".join(str(_revision(rs)) for rs in owned)),
        ],
        note=_(
            "The deployment's strategy rolls the pods back; follow it with `/diag k8s rollout {name}`. "
            "Roll forward again the same way (`rollback <deployment> <revision>`).",
            name=name,
        ),
        expect={
            "uid": deployment["metadata"].get("uid"),
            "resourceVersion": deployment["metadata"].get("resourceVersion"),
            "revision": current,
        },
    )


def rollback_apply(ctx: ActionContext) -> Applied:
    ns, name, deployment, owned = _read(ctx)
    meta = deployment["metadata"]
    if ctx.expect and (meta.get("uid"), _revision(deployment)) != (
        ctx.expect.get("uid"),
        ctx.expect.get("revision"),
    ):
        raise Refused("changed", _("Deployment {ns}/{name} was changed since the preview (now revision "
                                   "{revision}); nothing was rolled back. Run the command again.", ns=ns, name=name,
                                   revision=_revision(deployment)))  # fmt: skip
    target = _choose(ctx, name, deployment, owned)
    body = [
        {"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
        {"op": "test", "path": "/metadata/resourceVersion", "value": meta.get("resourceVersion")},
        {"op": "replace", "path": "/spec/template", "value": _template_of(target)},
    ]
    check = ctx.check()
    patched = patch(check, _("roll back deployment {ns}/{name}", ns=ns, name=name), diag.apps_api(check).patch_namespaced_deployment,
                    name, ns, body, JSON_PATCH)  # fmt: skip
    return Applied(
        summary=_(
            "Rolled back deployment {ns}/{name} to revision {revision} ({images})",
            ns=ns,
            name=name,
            revision=_revision(target),
            images=_images(target["spec"]["template"]),
        ),
        changes=[
            Change("image", _images(deployment["spec"]["template"]), _images(patched["spec"]["template"])),
            Change("revision", str(_revision(deployment)), str(_revision(patched))),
        ],
        facts=[("namespace", ns), ("generation", str(patched["metadata"].get("generation")))],
        note=_("Pods roll out now; follow with `/diag k8s rollout {name}` and `/diag k8s pods`.", name=name),
        data={
            "namespace": ns,
            "deployment": name,
            "from_revision": _revision(deployment),
            "to_revision": _revision(target),
            "new_revision": _revision(patched),
        },
    )


ACTIONS = (
    Action(
        kind="k8s",
        verb="rollback",
        usage="<deployment> [revision] [ns=<namespace>]",
        summary=N_("rollout undo: back to the previous (or a named) ReplicaSet revision"),
        guide="kubectl rollout undo deployment/ecommerce-app -n ecommerce",
        args=1,
        optional_args=1,
        options=("ns", "namespace"),
        validate=_validate,
        preview=rollback_preview,
        apply=rollback_apply,
    ),
)
