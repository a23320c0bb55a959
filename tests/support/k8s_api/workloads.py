"""Deployments and their ReplicaSets: a healthy app, a stuck payments rollout (1 → 2), a worker."""

from __future__ import annotations

from datetime import datetime

from tests.support.k8s_api.base import make_meta, stamp


def make_deployment(now: datetime, name: str, replicas: int, status: dict, revision: int, image: str) -> dict:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": make_meta(
            now,
            name,
            86400 * 30,
            generation=revision + 1,
            labels={"app": name},
            annotations={"deployment.kubernetes.io/revision": str(revision)},
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name.split("-")[-1], "image": image}]},
            },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {"observedGeneration": revision + 1, **status},
    }


def make_condition(now: datetime, kind: str, status: str, reason: str, message: str, age: float) -> dict:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp(now, age),
        "lastTransitionTime": stamp(now, age),
        "reason": reason,
        "message": message,
    }


def make_deployments(now: datetime) -> list[dict]:
    app = make_deployment(
        now,
        "ecommerce-app",
        2,
        {
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [
                make_condition(now, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", 86400),
                make_condition(now, "Progressing", "True", "NewReplicaSetAvailable",
                           'ReplicaSet "ecommerce-app-7d4b9c8f6d" has successfully progressed.', 86400 * 3),
            ],
        },
        3,
        "registry.example.com/ecommerce-app:2.3.1",
    )  # fmt: skip
    payments = make_deployment(
        now,
        "payments",
        1,
        {
            "replicas": 2,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "unavailableReplicas": 1,
            "conditions": [
                make_condition(now, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", 86400 * 10),
                make_condition(now, "Progressing", "False", "ProgressDeadlineExceeded",
                           'ReplicaSet "payments-5c6d7e8f9b" has timed out progressing.', 1200),
            ],
        },
        2,
        "registry.example.com/payments:1.5.0",
    )  # fmt: skip
    worker = make_deployment(
        now,
        "ecommerce-worker",
        1,
        {
            "replicas": 1,
            "updatedReplicas": 1,
            "unavailableReplicas": 1,
            "conditions": [
                make_condition(now, "Available", "False", "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", 600),
                make_condition(now, "Progressing", "True", "ReplicaSetUpdated",
                           'ReplicaSet "ecommerce-worker-5f6a7b8c9d" is progressing.', 600),
            ],
        },
        1,
        "registry.example.com/worker:2.3.1",
    )  # fmt: skip
    return [app, payments, worker]


def make_replica_set(
    now: datetime,
    deployment: str,
    template_hash: str,
    revision: int,
    image: str,
    ready: int,
    age: float,
    replicas: int = 1,
) -> dict:
    name = f"{deployment}-{template_hash}"
    annotations = {
        "deployment.kubernetes.io/revision": str(revision),
        "deployment.kubernetes.io/desired-replicas": str(replicas),
        "deployment.kubernetes.io/max-replicas": "2",
    }
    if revision > 1:
        annotations["kubernetes.io/change-cause"] = (
            f"deploy {image.rsplit(':', 1)[-1]} (ci pipeline #{revision}04)"
        )
    labels = {"app": deployment, "pod-template-hash": template_hash}
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": make_meta(
            now,
            name,
            age,
            labels=labels,
            annotations=annotations,
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment,
                    "uid": f"uid-{deployment}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    }


def make_replica_sets(now: datetime) -> list[dict]:
    reg = "registry.example.com"
    old_app = make_replica_set(
        now, "ecommerce-app", "59c8b7f4d2", 2, f"{reg}/ecommerce-app:2.3.0", 0, 86400 * 9
    )
    old_app["spec"]["replicas"] = 0
    old_app["status"] = {"replicas": 0, "observedGeneration": 3}
    return [
        old_app,
        make_replica_set(
            now, "ecommerce-app", "7d4b9c8f6d", 3, f"{reg}/ecommerce-app:2.3.1", 2, 86400 * 3, replicas=2
        ),
        make_replica_set(now, "payments", "6f7a8b9c0d", 1, f"{reg}/payments:1.4.2", 1, 86400 * 10),
        make_replica_set(now, "payments", "5c6d7e8f9b", 2, f"{reg}/payments:1.5.0", 0, 1800),
        make_replica_set(now, "ecommerce-worker", "5f6a7b8c9d", 1, f"{reg}/worker:2.3.1", 0, 600),
    ]
