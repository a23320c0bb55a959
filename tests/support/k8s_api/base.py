"""The fixture's names, the secrets planted in it, and the builders every object shares (metadata, containers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

NAMESPACE = "ecommerce"
FORBIDDEN_NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "system:serviceaccount:warroom:warroom"

# Planted in the logs; none of these may ever reach a Report.
AWS_KEY = "AKIAZ7QWERTYUIOP1234"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ3YXJyb29tLXRlc3QifQ.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ"
DB_PASSWORD = "hunter2"
SECRETS = (AWS_KEY, JWT, DB_PASSWORD)

APP_POD_1 = "ecommerce-app-7d4b9c8f6d-abcde"
APP_POD_2 = "ecommerce-app-7d4b9c8f6d-fghij"
CRASH_POD = "payments-5c6d7e8f9b-xk2lp"
OLD_PAYMENTS_POD = "payments-6f7a8b9c0d-q1w2e"
PENDING_POD = "ecommerce-worker-5f6a7b8c9d-zz9yx"
PRESSURE_NODE = "ip-10-0-1-12"

MI = 1024 * 1024


# ----------------------------------------------------------------------------------------- builders
def stamp(now: datetime, seconds_ago: float) -> str:
    return (now - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_meta(now: datetime, name: str, age: float, namespace: str | None = NAMESPACE, **extra: Any) -> dict:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "48151623",
        "creationTimestamp": stamp(now, age),
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def make_container(name: str, image: str, memory: str, cpu: str) -> dict:
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8000, "protocol": "TCP"}],
        "resources": {
            "limits": {"cpu": cpu, "memory": memory},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def running_state(now: datetime, name: str, image: str, started: float, restarts: int = 0) -> dict:
    return {
        "name": name,
        "state": {"running": {"startedAt": stamp(now, started)}},
        "lastState": {},
        "ready": True,
        "restartCount": restarts,
        "image": image,
        "imageID": f"docker-pullable://{image}@sha256:" + "ab" * 32,
        "containerID": "containerd://" + "cd" * 32,
        "started": True,
    }


def pod_conditions(now: datetime, ready: bool, age: float) -> list[dict]:
    flag = "True" if ready else "False"
    conditions = [
        {
            "type": "Initialized",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": stamp(now, age),
        },
        {"type": "Ready", "status": flag, "lastProbeTime": None, "lastTransitionTime": stamp(now, 60)},
        {
            "type": "ContainersReady",
            "status": flag,
            "lastProbeTime": None,
            "lastTransitionTime": stamp(now, 60),
        },
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": stamp(now, age),
        },
    ]
    if not ready:
        for condition in conditions[1:3]:
            condition["reason"] = "ContainersNotReady"
            condition["message"] = "containers with unready status: [payments]"
    return conditions
