"""Secrets for `/remediate k8s rotate-secret`: GET, POST (create) and merge PATCH of core/v1 Secrets,
and a deployment controller that finishes (or stalls) a rollout after a template change.

`install(api)` plants the fixture: Secret `ecommerce-app-secrets` (DB_PASSWORD, API_KEY, SESSION_KEY)
read by `ecommerce-app` through `env.valueFrom.secretKeyRef` and by `ecommerce-worker` through
`envFrom`; Secret `payments-tls` mounted as a volume by `payments`. Until `install` is called the
fixture is unchanged for every other test. `api.rollouts` then says what the controller does after
a pod-template change: "complete" (every replica updated and available), "stall" (nothing moves) or
"fail" (ProgressDeadlineExceeded).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

SECRET_NAME = "ecommerce-app-secrets"
PLANTED = {
    "DB_PASSWORD": "hunter2-old-db-password",
    "API_KEY": "sk-old-api-key-0001",
    "SESSION_KEY": "old-session",
}
_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/secrets(?:/(?P<name>[^/]+))?$")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def make_secret(name: str, ns: str, values: dict[str, str], version: int = 1) -> dict[str, Any]:
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"uid-{name}",
            "resourceVersion": str(version),
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "labels": {"app": "ecommerce"},
        },
        "type": "Opaque",
        "data": {k: _b64(v) for k, v in values.items()},
    }


def install(api: Any) -> None:
    """Plant the Secrets and make the deployments read them."""
    ns = "ecommerce"
    api.secrets = [
        make_secret(SECRET_NAME, ns, PLANTED),
        make_secret("payments-tls", ns, {"tls.crt": "cert", "tls.key": "key"}),
    ]
    api.rollouts = "complete"
    by_name = {d["metadata"]["name"]: d for d in api.deployments}
    app = by_name["ecommerce-app"]["spec"]["template"]["spec"]["containers"][0]
    app["env"] = [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}} for key in PLANTED
    ] + [{"name": "LOG_LEVEL", "value": "info"}]
    worker = by_name["ecommerce-worker"]["spec"]["template"]["spec"]["containers"][0]
    worker["envFrom"] = [{"secretRef": {"name": SECRET_NAME}}]
    payments = by_name["payments"]["spec"]["template"]["spec"]
    payments["volumes"] = [{"name": "tls", "secret": {"secretName": "payments-tls"}}]


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip


def handles(path: str) -> bool:
    return _PATH.match(path) is not None


def handle(api: Any, method: str, path: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    """One request on /api/v1/namespaces/{ns}/secrets[/{name}]: (HTTP status, JSON body)."""
    match = _PATH.match(path)
    assert match is not None
    ns, name = match.group("ns"), match.group("name")
    store: list[dict[str, Any]] = getattr(api, "secrets", [])
    found = next(
        (s for s in store if s["metadata"]["name"] == name and s["metadata"]["namespace"] == ns), None
    )
    if method == "GET" and name:
        if found is None:
            return 404, _status(404, "NotFound", f'secrets "{name}" not found')
        return 200, found
    body = json.loads(raw or b"null") if method in ("POST", "PATCH") else None
    if method in ("POST", "PATCH"):
        api.writes.append((method, path, content_type, body))
    if method == "POST" and not name:
        if content_type != "application/json":  # the API server cannot decode a body of no declared type
            return 415, _status(
                415, "UnsupportedMediaType", f"the body's media type {content_type!r} is not taken"
            )
        new = body["metadata"]["name"]
        if any(s["metadata"]["name"] == new and s["metadata"]["namespace"] == ns for s in store):
            return 409, _status(409, "AlreadyExists", f'secrets "{new}" already exists')
        created = json.loads(json.dumps(body))
        created["metadata"].update(namespace=ns, uid=f"uid-{new}", resourceVersion="1")
        store.append(created)
        return 201, created
    if method == "PATCH" and name:
        if found is None:
            return 404, _status(404, "NotFound", f'secrets "{name}" not found')
        if content_type != "application/merge-patch+json":
            return 415, _status(415, "UnsupportedMediaType", f"{content_type} is not taken here")
        for key in ("labels", "annotations"):
            found["metadata"].setdefault(key, {}).update((body.get("metadata") or {}).get(key) or {})
        found["metadata"]["resourceVersion"] = str(int(found["metadata"]["resourceVersion"]) + 1)
        return 200, found
    return 405, _status(405, "MethodNotAllowed", f"{method} {path} is not served by the stand-in")


def after_template_change(api: Any, deployment: dict[str, Any]) -> None:
    """What the controller shows after the rollout of a new template (only once `install` ran)."""
    how = getattr(api, "rollouts", None)
    if how is None:
        return
    status = deployment.setdefault("status", {})
    if how == "stall":
        return
    status["observedGeneration"] = deployment["metadata"]["generation"]
    replicas = deployment["spec"].get("replicas", 1)
    if how == "fail":
        status["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                 "message": "ReplicaSet has timed out progressing."}]  # fmt: skip
        return
    status.update(
        replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas
    )
