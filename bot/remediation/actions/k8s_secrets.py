"""Kubernetes: `rotate-secret <deployment> <key>[,<key>…]` — the guide's key-rotation script, done safely.

The guide rotates a leaked key by writing a new Secret and restarting what reads it. Here:
- the preview reads the deployment, finds the Secret its pod template reads the named keys from
  (env `secretKeyRef`, `envFrom`, or a secret volume), and names every deployment of the namespace
  that reads that Secret — the ones not patched keep the old values, which the preview says;
- the confirm writes a NEW Secret `<old>-r<yyyymmddhhmmss>`: fresh `secrets.token_urlsafe(32)` values for the
  named keys, every other key copied; patches the deployment's pod template to read it (a JSON patch
  that first tests the deployment's uid and resourceVersion); labels the old Secret
  `warroom.io/rotated-out=true` with the new name in an annotation — kept, for a rollback by hand;
  then watches the rollout until every replica is updated and available, it fails, or the watch ends.
Values are never shown, logged nor recorded: what is reported is the Secret's name and its keys.
"""

from __future__ import annotations

import base64
import copy
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from bot.diagnostics import k8s as diag
from bot.diagnostics.base import CheckContext, UsageError
from bot.diagnostics.k8s.client import call, core_api, get_json
from bot.i18n import N_, _
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused
from bot.remediation.actions.k8s import patch

JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
ROTATED_OUT = "warroom.io/rotated-out"  # label on the old Secret: kept for a rollback
ROTATED_TO = "warroom.io/rotated-to"  # annotation on the old Secret: its replacement
ROTATED_FROM = "warroom.io/rotated-from"  # annotation on the new Secret: what it replaced
WATCH_LIMIT = 90.0  # seconds the rollout is watched at most (also the action's apply grace)
_KEY = r"[-._a-zA-Z0-9]+"


# ---------------------------------------------------------------------------------- validation
def _keys(raw: str) -> list[str]:
    import re

    keys = [k for k in raw.split(",") if k]
    if not keys or len(keys) > 20 or not all(re.fullmatch(_KEY, k) and len(k) <= 253 for k in keys):
        raise UsageError(
            _(
                "Name the Secret keys to rotate, comma-separated, like `DB_PASSWORD,API_KEY` "
                "(letters, digits, '-', '_' and '.')."
            )
        )
    return list(dict.fromkeys(keys))


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_name(diag.strip_kind(args[0]), "deployment name")
    if len(args) > 1:
        _keys(args[1])
    for key in ("ns", "namespace"):
        if key in options:
            diag.validate_label(options[key])
    if "secret" in options:
        diag.validate_name(options["secret"], "Secret name")


# --------------------------------------------------------------------------------- references
def _reads(template: dict[str, Any]) -> dict[str, set[str] | None]:
    """Secret name → the keys the pod template reads from it (None: all of them, envFrom or a volume)."""
    spec = template.get("spec") or {}
    found: dict[str, set[str] | None] = {}

    def add(name: str | None, key: str | None) -> None:
        if not name:
            return
        if key is None:
            found[name] = None
        elif found.get(name, set()) is not None:
            found.setdefault(name, set()).add(key)  # type: ignore[union-attr]

    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
            add(ref.get("name"), ref.get("key"))
        for source in container.get("envFrom") or []:
            add((source.get("secretRef") or {}).get("name"), None)
    for volume in spec.get("volumes") or []:
        add((volume.get("secret") or {}).get("secretName"), None)
    return found


def _renamed(template: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The pod template reading `new` wherever it read `old`."""
    result = copy.deepcopy(template)
    spec = result.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref.get("name") == old:
                ref["name"] = new
        for source in container.get("envFrom") or []:
            ref = source.get("secretRef")
            if ref and ref.get("name") == old:
                ref["name"] = new
    for volume in spec.get("volumes") or []:
        secret = volume.get("secret")
        if secret and secret.get("secretName") == old:
            secret["secretName"] = new
    return result


def _secret(check: CheckContext, ns: str, name: str) -> dict[str, Any]:
    raw = call(check, f"Secret {name}", core_api(check).read_namespaced_secret, name, ns, absent=(404,))
    if raw is None:
        raise Refused(
            "not_found", _("The Secret {name} the deployment reads does not exist in {ns}.", name=name, ns=ns)
        )
    import json

    secret: dict[str, Any] = json.loads(raw)
    return secret


def _plan(ctx: ActionContext) -> dict[str, Any]:
    """What a rotation would do: the deployment, the Secret, the keys, and every deployment reading it."""
    check = ctx.check()
    ns, name = diag.namespace_of(check), diag.strip_kind(ctx.args[0])
    keys = _keys(ctx.args[1])
    deployment = diag.read_deployment(check, name, ns)
    reads = _reads(deployment["spec"]["template"])
    wanted = ctx.options.get("secret")
    candidates = [wanted] if wanted else sorted(reads)
    if wanted and wanted not in reads:
        raise Refused(
            "not_found",
            _("Deployment {ns}/{name} does not read the Secret {secret}.", ns=ns, name=name, secret=wanted),
        )
    if not candidates:
        raise Refused(
            "not_found", _("Deployment {ns}/{name} reads no Secret: nothing to rotate.", ns=ns, name=name)
        )
    holding = []
    for candidate in candidates:
        secret = _secret(check, ns, candidate)
        if set(keys) <= set(secret.get("data") or {}):
            holding.append(secret)
    if not holding:
        raise Refused(
            "not_found",
            _(
                "No Secret read by {ns}/{name} holds all of {keys} (it reads: {reads}).",
                ns=ns,
                name=name,
                keys=", ".join(keys),
                reads=", ".join(sorted(reads)),
            ),
        )
    if len(holding) > 1:
        raise Refused(
            "ambiguous",
            _(
                "Several Secrets read by {name} hold those keys ({secrets}): add `secret=<name>`.",
                name=name,
                secrets=", ".join(s["metadata"]["name"] for s in holding),
            ),
        )
    secret = holding[0]
    old = secret["metadata"]["name"]
    listing = get_json(check, "deployments", diag.apps_api(check).list_namespaced_deployment, ns)
    readers = sorted(
        d["metadata"]["name"] for d in listing.get("items", []) if old in _reads(d["spec"]["template"])
    )
    return {
        "ns": ns,
        "name": name,
        "keys": keys,
        "deployment": deployment,
        "secret": secret,
        "readers": readers,
    }


# ------------------------------------------------------------------------------------ preview
def rotate_preview(ctx: ActionContext) -> Preview:
    plan = _plan(ctx)
    ns, name, keys, secret = plan["ns"], plan["name"], plan["keys"], plan["secret"]
    old = secret["metadata"]["name"]
    others = [r for r in plan["readers"] if r != name]
    note = _(
        "A new Secret gets fresh random values for {keys} (the other keys copied); {name} is patched to "
        "read it and its rollout watched; {old} is kept, labelled {label}=true, for a rollback. "
        "Values are never shown.",
        keys=", ".join(keys),
        name=name,
        old=old,
        label=ROTATED_OUT,
    )
    if others:
        note += " " + _(
            "⚠️ {others} also read {old} and keep the old values until rotated the same way.",
            old=old,
            others=", ".join(others),
        )
    return Preview(
        title=_("Rotate keys of Secret {ns}/{old} for deployment {name}", ns=ns, old=old, name=name),
        changes=[
            Change(_("Secret"), old, _("{old}-r<timestamp> (new)", old=old)),
            Change(_("keys"), ", ".join(keys), _("fresh random values")),
        ],
        facts=[
            ("namespace", ns),
            (_("Secret keys"), ", ".join(sorted(secret.get("data") or {}))),
            (_("deployments reading it"), ", ".join(plan["readers"])),
        ],
        note=note,
        expect={
            "uid": plan["deployment"]["metadata"].get("uid"),
            "resourceVersion": plan["deployment"]["metadata"].get("resourceVersion"),
            "secret": old,
            "secret_version": secret["metadata"].get("resourceVersion"),
        },
    )


# -------------------------------------------------------------------------------------- apply
def _new_secret(secret: dict[str, Any], new: str, keys: list[str], deployment: str) -> dict[str, Any]:
    data = dict(secret.get("data") or {})
    for key in keys:  # fresh values; everything else is copied as it is (still base64)
        data[key] = base64.b64encode(secrets.token_urlsafe(32).encode()).decode()
    meta = secret["metadata"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != ROTATED_OUT}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": new,
            "namespace": meta.get("namespace"),
            "labels": labels,
            "annotations": {
                ROTATED_FROM: meta["name"],
                "warroom.io/rotated-keys": ",".join(keys),
                "warroom.io/rotated-for": deployment,
            },
        },
        "type": secret.get("type") or "Opaque",
        "data": data,
    }


def _create(check: CheckContext, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    api = core_api(check)

    def create(_name: str, namespace: str, obj: dict[str, Any], **kw: Any) -> Any:
        kw.pop("_content_type", None)  # ignored by this generated method: the header is set by hand
        return api.create_namespaced_secret(
            namespace, obj, _headers={"Content-Type": "application/json"}, **kw
        )

    return patch(
        check,
        f"create Secret {ns}/{body['metadata']['name']}",
        create,
        body["metadata"]["name"],
        ns,
        body,
        "application/json",
    )


def _watch(check: CheckContext, ns: str, name: str, generation: int, limit: float) -> tuple[str, str]:
    """Follow the rollout: ("complete" | "failed" | "unfinished", what the status says)."""
    deadline = time.monotonic() + limit
    while True:
        current = diag.read_deployment(check, name, ns)
        status, want = current.get("status") or {}, (current.get("spec") or {}).get("replicas", 1)
        shown = _(
            "{updated}/{want} updated, {available} available",
            updated=status.get("updatedReplicas", 0),
            want=want,
            available=status.get("availableReplicas", 0),
        )
        if status.get("observedGeneration", 0) >= generation:
            for condition in status.get("conditions") or []:
                if (
                    condition.get("type") == "Progressing"
                    and condition.get("reason") == "ProgressDeadlineExceeded"
                ):
                    return "failed", shown + " — " + str(condition.get("message") or "")
            if (
                status.get("updatedReplicas", 0) >= want
                and status.get("availableReplicas", 0) >= want
                and status.get("replicas", want) <= want
            ):
                return "complete", shown
        if time.monotonic() >= deadline:
            return "unfinished", shown
        time.sleep(min(1.0, max(0.1, deadline - time.monotonic())))


def rotate_apply(ctx: ActionContext) -> Applied:
    plan = _plan(ctx)
    ns, name, keys, secret, deployment = (
        plan["ns"],
        plan["name"],
        plan["keys"],
        plan["secret"],
        plan["deployment"],
    )
    old, meta = secret["metadata"]["name"], deployment["metadata"]
    if ctx.expect and (meta.get("uid"), old) != (ctx.expect.get("uid"), ctx.expect.get("secret")):
        raise Refused(
            "changed",
            _(
                "Deployment {ns}/{name} or its Secret changed since the preview; nothing was "
                "rotated. Run the command again.",
                ns=ns,
                name=name,
            ),
        )
    check = ctx.check()
    new = f"{old[:236]}-r{datetime.now(UTC):%Y%m%d%H%M%S}"
    _create(check, ns, _new_secret(secret, new, keys, name))
    body = [
        {"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
        {"op": "test", "path": "/metadata/resourceVersion", "value": meta.get("resourceVersion")},
        {
            "op": "replace",
            "path": "/spec/template",
            "value": _renamed(deployment["spec"]["template"], old, new),
        },
    ]
    patched = patch(
        check,
        f"point deployment {ns}/{name} at Secret {new}",
        diag.apps_api(check).patch_namespaced_deployment,
        name,
        ns,
        body,
        JSON_PATCH,
    )
    label = {"metadata": {"labels": {ROTATED_OUT: "true"}, "annotations": {ROTATED_TO: new}}}
    patch(check, f"label Secret {ns}/{old}", core_api(check).patch_namespaced_secret, old, ns, label, MERGE)
    generation = int((patched.get("metadata") or {}).get("generation") or 0)
    outcome, shown = _watch(
        check,
        ns,
        name,
        generation,
        min(WATCH_LIMIT, ctx.policy.remediation.bounds.rollout_watch.total_seconds()),
    )
    rollout = {
        "complete": _("rollout complete: {status}", status=shown),
        "failed": _("rollout FAILED: {status}", status=shown),
        "unfinished": _("rollout still going when the watch ended: {status}", status=shown),
    }[outcome]
    others = [r for r in plan["readers"] if r != name]
    note = _(
        "Roll back by pointing {name} at {old} again (it is kept, labelled {label}=true).",
        name=name,
        old=old,
        label=ROTATED_OUT,
    )
    if outcome != "complete":
        note = _("Follow it with `/diag k8s rollout {name}`.", name=name) + " " + note
    if others:
        note += " " + _("{others} still read the old values.", others=", ".join(others))
    return Applied(
        summary=_(
            "Rotated {keys} of Secret {ns}/{old} into {new} for {name}; {rollout}",
            keys=", ".join(keys),
            ns=ns,
            old=old,
            new=new,
            name=name,
            rollout=rollout,
        ),
        changes=[Change(_("Secret"), old, new), Change(_("keys"), ", ".join(keys), _("fresh random values"))],
        facts=[("namespace", ns), (_("rollout"), rollout)],
        note=note,
        data={
            "namespace": ns,
            "deployment": name,
            "secret": old,
            "new_secret": new,
            "keys": keys,
            "rollout": outcome,
            "also_reading": others,
        },
    )


ACTIONS = (
    Action(
        kind="k8s",
        verb="rotate-secret",
        usage="<deployment> <key>[,<key>…] [secret=<name>] [ns=<namespace>]",
        summary=N_(
            "new Secret with fresh values for the named keys; the deployment patched to it; rollout watched"
        ),
        guide="kubectl create secret … && kubectl set env / rollout restart (the guide's key rotation)",
        args=2,
        options=("ns", "namespace", "secret"),
        validate=_validate,
        preview=rotate_preview,
        apply=rotate_apply,
        apply_grace=WATCH_LIMIT,
    ),
)
