"""What the deployment controller does on a template change, for `kubectl rollout undo` (JSON patch).

`apply_json_patch` applies RFC 6902 `test` and `replace` operations (what a rollback sends: test the
uid and resourceVersion, replace /spec/template); a failed test is the API's 422. `settle` gives the
ReplicaSet whose template now matches the next revision number, or makes a new one — so after a
rollback to revision 2 of 3 the old ReplicaSet is revision 4, as a real cluster shows it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

REVISION = "deployment.kubernetes.io/revision"
JSON_PATCH = "application/json-patch+json"
HASH_LABEL = "pod-template-hash"


class PatchFailed(Exception):
    """A `test` operation did not hold, or the patch is not one this stand-in takes."""


def _pointer(doc: Any, path: str) -> tuple[Any, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc, parts[-1]


def apply_json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """A patched copy of `obj`; PatchFailed (nothing changed) when an operation fails."""
    result = copy.deepcopy(obj)
    for op in ops:
        try:
            parent, key = _pointer(result, op["path"])
            if op["op"] == "test":
                if parent.get(key) != op.get("value"):
                    raise PatchFailed(f"the test of {op['path']} failed")
            elif op["op"] in ("replace", "add"):
                parent[key] = copy.deepcopy(op["value"])
            else:
                raise PatchFailed(f"the fake server does not take the JSON patch op {op['op']!r}")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise PatchFailed(f"bad JSON patch operation {op!r}: {exc}") from None
    return result


def _bare(template: dict[str, Any]) -> str:
    bare = copy.deepcopy(template)
    (bare.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return json.dumps(bare, sort_keys=True)


def settle(replica_sets: list[dict[str, Any]], deployment: dict[str, Any], revision: int) -> None:
    """The controller's bookkeeping after the deployment's template changed to `revision`."""
    name, ns = deployment["metadata"]["name"], deployment["metadata"].get("namespace")
    wanted = _bare(deployment["spec"]["template"])
    owned = [rs for rs in replica_sets if any(o.get("name") == name for o in rs["metadata"].get("ownerReferences") or [])
             and rs["metadata"].get("namespace") == ns]  # fmt: skip
    match = next((rs for rs in owned if _bare(rs["spec"]["template"]) == wanted), None)
    if match is None:
        template_hash = hashlib.sha256(wanted.encode()).hexdigest()[:10]
        template = copy.deepcopy(deployment["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = template_hash
        match = {
            "kind": "ReplicaSet",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": f"{name}-{template_hash}", "namespace": ns, "uid": f"uid-{name}-{template_hash}",
                "creationTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "labels": dict(template["metadata"]["labels"]), "annotations": {},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                     "uid": deployment["metadata"].get("uid"), "controller": True}],
            },
            "spec": {"replicas": 0, "selector": {"matchLabels": dict(template["metadata"]["labels"])}, "template": template},
            "status": {"replicas": 0},
        }  # fmt: skip
        replica_sets.append(match)
    match["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
