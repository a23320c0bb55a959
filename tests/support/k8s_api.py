"""A local stand-in for the Kubernetes API server (SPEC §9): real REST paths, real Kubernetes JSON.

No API server can be installed on the test machines, so the official `kubernetes` client is pointed
(through a kubeconfig written by `write_kubeconfig`, exactly as in production) at this stdlib HTTP
server. It answers the paths the k8s adapter uses with objects shaped as the API returns them
(kind/apiVersion/metadata/spec/status), `Status` bodies on errors, and text/plain pod logs that honour
tailLines, sinceSeconds, previous and container.

Every request is recorded in `served` as (verb, path): the deploy issue compares them against RBAC.

Writes, for `/remediate` (everything else that is not a GET answers 405):
- PATCH deployments/{name} with a strategic-merge or merge patch (what `kubectl rollout restart` sends:
  spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]); a changed pod template bumps
  the generation and the revision, as the controller would;
- GET, PATCH and PUT deployments/{name}/scale (what `kubectl scale` uses), answered with a Scale object.
Each write is recorded in `writes` as (verb, path, content type, JSON body).

The fixture is one incident in namespace `ecommerce`:
- deployment `ecommerce-app`: healthy, 2/2 ready; one replica close to its memory limit (metrics);
- deployment `payments`: a stuck rollout (ProgressDeadlineExceeded) from revision 1 to 2; the new
  pod is in CrashLoopBackOff after 7 restarts, last terminated OOMKilled (exit 137);
- deployment `ecommerce-worker`: a pod Pending on FailedScheduling;
- warning events BackOff and FailedScheduling (and Normal events the adapter must filter out);
- node `ip-10-0-1-12` with DiskPressure=True;
- logs with error lines and planted secrets (SECRETS below).
Namespace `kube-system` answers 403 Forbidden; `hang_paths` makes chosen paths never answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
def _ts(now: datetime, seconds_ago: float) -> str:
    return (now - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(now: datetime, name: str, age: float, namespace: str | None = NAMESPACE, **extra: Any) -> dict:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "48151623",
        "creationTimestamp": _ts(now, age),
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def _container(name: str, image: str, memory: str, cpu: str) -> dict:
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


def _running(now: datetime, name: str, image: str, started: float, restarts: int = 0) -> dict:
    return {
        "name": name,
        "state": {"running": {"startedAt": _ts(now, started)}},
        "lastState": {},
        "ready": True,
        "restartCount": restarts,
        "image": image,
        "imageID": f"docker-pullable://{image}@sha256:" + "ab" * 32,
        "containerID": "containerd://" + "cd" * 32,
        "started": True,
    }


def _conditions(now: datetime, ready: bool, age: float) -> list[dict]:
    flag = "True" if ready else "False"
    conditions = [
        {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": _ts(now, age)},
        {"type": "Ready", "status": flag, "lastProbeTime": None, "lastTransitionTime": _ts(now, 60)},
        {
            "type": "ContainersReady",
            "status": flag,
            "lastProbeTime": None,
            "lastTransitionTime": _ts(now, 60),
        },
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": _ts(now, age),
        },
    ]
    if not ready:
        for condition in conditions[1:3]:
            condition["reason"] = "ContainersNotReady"
            condition["message"] = "containers with unready status: [payments]"
    return conditions


def _pod(
    now: datetime,
    name: str,
    deployment: str,
    template_hash: str,
    container: dict,
    status: dict,
    age: float,
) -> dict:
    rs_name = f"{deployment}-{template_hash}"
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": _meta(
            now,
            name,
            age,
            generateName=f"{rs_name}-",
            labels={"app": deployment, "pod-template-hash": template_hash},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": f"uid-{rs_name}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        ),
        "spec": {
            "containers": [container],
            "restartPolicy": "Always",
            "serviceAccountName": "default",
            "nodeName": status.pop("_node", None),
            "schedulerName": "default-scheduler",
        },
        "status": status,
    }


def _pods(now: datetime) -> list[dict]:
    app_image = "registry.example.com/ecommerce-app:2.3.1"
    new_payments = "registry.example.com/payments:1.5.0"
    old_payments = "registry.example.com/payments:1.4.2"

    def healthy(image: str, name: str, node: str, age: float) -> dict:
        return {
            "_node": node,
            "phase": "Running",
            "conditions": _conditions(now, True, age),
            "hostIP": "10.0.1.11",
            "podIP": "10.244.1.17",
            "startTime": _ts(now, age),
            "containerStatuses": [_running(now, name, image, age)],
            "qosClass": "Burstable",
        }

    crash = {
        "_node": "ip-10-0-1-11",
        "phase": "Running",
        "conditions": _conditions(now, False, 1800),
        "hostIP": "10.0.1.11",
        "podIP": "10.244.1.23",
        "startTime": _ts(now, 1800),
        "containerStatuses": [
            {
                "name": "payments",
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed container=payments pod={CRASH_POD}"
                        f"_ecommerce(uid-{CRASH_POD})",
                    }
                },
                "lastState": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "OOMKilled",
                        "startedAt": _ts(now, 140),
                        "finishedAt": _ts(now, 95),
                        "containerID": "containerd://" + "ef" * 32,
                    }
                },
                "ready": False,
                "restartCount": 7,
                "image": new_payments,
                "imageID": f"docker-pullable://{new_payments}@sha256:" + "12" * 32,
                "containerID": "containerd://" + "ef" * 32,
                "started": False,
            }
        ],
        "qosClass": "Burstable",
    }
    pending = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": _ts(now, 600),
                "reason": "Unschedulable",
                "message": "0/2 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
                "{node.kubernetes.io/disk-pressure: }. preemption: 0/2 nodes are available: "
                "2 No preemption victims found for incoming pod.",
            }
        ],
        "qosClass": "Burstable",
    }
    return [
        _pod(now, APP_POD_1, "ecommerce-app", "7d4b9c8f6d", _container("app", app_image, "512Mi", "500m"),
             healthy(app_image, "app", "ip-10-0-1-11", 86400 * 3), 86400 * 3),
        _pod(now, APP_POD_2, "ecommerce-app", "7d4b9c8f6d", _container("app", app_image, "512Mi", "500m"),
             healthy(app_image, "app", PRESSURE_NODE, 86400 * 3), 86400 * 3),
        _pod(now, CRASH_POD, "payments", "5c6d7e8f9b", _container("payments", new_payments, "256Mi", "500m"),
             crash, 1800),
        _pod(now, OLD_PAYMENTS_POD, "payments", "6f7a8b9c0d",
             _container("payments", old_payments, "256Mi", "500m"),
             healthy(old_payments, "payments", PRESSURE_NODE, 86400 * 10), 86400 * 10),
        _pod(now, PENDING_POD, "ecommerce-worker", "5f6a7b8c9d",
             _container("worker", "registry.example.com/worker:2.3.1", "2Gi", "1"), pending, 600),
    ]  # fmt: skip


def _deployment(now: datetime, name: str, replicas: int, status: dict, revision: int, image: str) -> dict:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": _meta(
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


def _condition(now: datetime, kind: str, status: str, reason: str, message: str, age: float) -> dict:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": _ts(now, age),
        "lastTransitionTime": _ts(now, age),
        "reason": reason,
        "message": message,
    }


def _deployments(now: datetime) -> list[dict]:
    app = _deployment(
        now,
        "ecommerce-app",
        2,
        {
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [
                _condition(now, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", 86400),
                _condition(now, "Progressing", "True", "NewReplicaSetAvailable",
                           'ReplicaSet "ecommerce-app-7d4b9c8f6d" has successfully progressed.', 86400 * 3),
            ],
        },
        3,
        "registry.example.com/ecommerce-app:2.3.1",
    )  # fmt: skip
    payments = _deployment(
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
                _condition(now, "Available", "True", "MinimumReplicasAvailable",
                           "Deployment has minimum availability.", 86400 * 10),
                _condition(now, "Progressing", "False", "ProgressDeadlineExceeded",
                           'ReplicaSet "payments-5c6d7e8f9b" has timed out progressing.', 1200),
            ],
        },
        2,
        "registry.example.com/payments:1.5.0",
    )  # fmt: skip
    worker = _deployment(
        now,
        "ecommerce-worker",
        1,
        {
            "replicas": 1,
            "updatedReplicas": 1,
            "unavailableReplicas": 1,
            "conditions": [
                _condition(now, "Available", "False", "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", 600),
                _condition(now, "Progressing", "True", "ReplicaSetUpdated",
                           'ReplicaSet "ecommerce-worker-5f6a7b8c9d" is progressing.', 600),
            ],
        },
        1,
        "registry.example.com/worker:2.3.1",
    )  # fmt: skip
    return [app, payments, worker]


def _replica_set(
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
        "metadata": _meta(
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


def _replica_sets(now: datetime) -> list[dict]:
    reg = "registry.example.com"
    old_app = _replica_set(now, "ecommerce-app", "59c8b7f4d2", 2, f"{reg}/ecommerce-app:2.3.0", 0, 86400 * 9)
    old_app["spec"]["replicas"] = 0
    old_app["status"] = {"replicas": 0, "observedGeneration": 3}
    return [
        old_app,
        _replica_set(
            now, "ecommerce-app", "7d4b9c8f6d", 3, f"{reg}/ecommerce-app:2.3.1", 2, 86400 * 3, replicas=2
        ),
        _replica_set(now, "payments", "6f7a8b9c0d", 1, f"{reg}/payments:1.4.2", 1, 86400 * 10),
        _replica_set(now, "payments", "5c6d7e8f9b", 2, f"{reg}/payments:1.5.0", 0, 1800),
        _replica_set(now, "ecommerce-worker", "5f6a7b8c9d", 1, f"{reg}/worker:2.3.1", 0, 600),
    ]


def _event(
    now: datetime, kind: str, reason: str, pod: str, message: str, count: int, age: float, component: str
) -> dict:
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": _meta(now, f"{pod}.17a2b3c4d5e6f{count:03d}", age),
        "involvedObject": {
            "kind": "Pod",
            "namespace": NAMESPACE,
            "name": pod,
            "uid": f"uid-{pod}",
            "apiVersion": "v1",
            "fieldPath": "spec.containers{payments}" if pod == CRASH_POD else None,
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": _ts(now, age + 1500),
        "lastTimestamp": _ts(now, age),
        "count": count,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
    }


def _events(now: datetime) -> list[dict]:
    return [
        _event(now, "Warning", "BackOff", CRASH_POD, "Back-off restarting failed container payments in pod "
               f"{CRASH_POD}_ecommerce(uid-{CRASH_POD})", 42, 30, "kubelet"),
        _event(now, "Warning", "FailedScheduling", PENDING_POD, "0/2 nodes are available: 1 Insufficient memory, "
               "1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }.", 9, 120, "default-scheduler"),
        _event(now, "Normal", "Pulled", CRASH_POD, 'Container image "registry.example.com/payments:1.5.0" '
               "already present on machine", 7, 95, "kubelet"),
        _event(now, "Normal", "Scheduled", APP_POD_1, f"Successfully assigned ecommerce/{APP_POD_1} to "
               "ip-10-0-1-11", 1, 3000, "default-scheduler"),
    ]  # fmt: skip


def _node(now: datetime, name: str, disk_pressure: bool, instance: str) -> dict:
    def condition(kind: str, status: bool, reason: str, message: str) -> dict:
        return {
            "type": kind,
            "status": "True" if status else "False",
            "lastHeartbeatTime": _ts(now, 20),
            "lastTransitionTime": _ts(now, 3600 if status else 86400 * 20),
            "reason": reason,
            "message": message,
        }

    spec: dict[str, Any] = {"providerID": f"aws:///us-east-1a/{instance}"}
    if disk_pressure:
        spec["taints"] = [
            {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule", "timeAdded": _ts(now, 3600)}
        ]
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": _meta(
            now,
            name,
            86400 * 20,
            namespace=None,
            labels={"kubernetes.io/hostname": name, "node-role.kubernetes.io/worker": ""},
        ),
        "spec": spec,
        "status": {
            "capacity": {
                "cpu": "4",
                "memory": "16281212Ki",
                "pods": "110",
                "ephemeral-storage": "83873772Ki",
            },
            "allocatable": {"cpu": "3920m", "memory": "15112316Ki", "pods": "110"},
            "conditions": [
                condition(
                    "MemoryPressure", False, "KubeletHasSufficientMemory", "kubelet has sufficient memory"
                ),
                condition(
                    "DiskPressure",
                    disk_pressure,
                    "KubeletHasDiskPressure" if disk_pressure else "KubeletHasNoDiskPressure",
                    "kubelet has disk pressure" if disk_pressure else "kubelet has no disk pressure",
                ),
                condition(
                    "PIDPressure", False, "KubeletHasSufficientPID", "kubelet has sufficient PID available"
                ),
                condition("Ready", True, "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.29.4",
                "osImage": "Amazon Linux 2",
                "containerRuntimeVersion": "containerd://1.7.11",
            },
        },
    }


def _pod_metrics(now: datetime) -> list[dict]:
    def metrics(pod: str, container: str, cpu: str, memory: str) -> dict:
        return {
            "metadata": {
                "name": pod,
                "namespace": NAMESPACE,
                "creationTimestamp": _ts(now, 0),
                "labels": {"app": pod.rsplit("-", 2)[0]},
            },
            "timestamp": _ts(now, 12),
            "window": "15.011s",
            "containers": [{"name": container, "usage": {"cpu": cpu, "memory": memory}}],
        }

    return [
        # 480Mi of a 512Mi limit: the guide's 内存溢出 in the making.
        metrics(APP_POD_1, "app", "412000000n", "491520Ki"),
        metrics(APP_POD_2, "app", "120m", "210Mi"),
        metrics(OLD_PAYMENTS_POD, "payments", "35m", "120Mi"),
    ]


def _logs(now: datetime) -> dict[tuple[str, str, bool], list[tuple[float, str]]]:
    """(pod, container, previous) -> [(seconds ago, line)], oldest first."""
    url = f"postgres://app:{DB_PASSWORD}@db:5432/payments"
    return {
        (CRASH_POD, "payments", False): [
            (80, "2024-05-14T09:58:01Z INFO  starting payments 1.5.0"),
            (79, f"2024-05-14T09:58:01Z INFO  connecting to {url}"),
            (78, f"2024-05-14T09:58:02Z DEBUG aws client configured key_id={AWS_KEY}"),
            (60, "2024-05-14T09:58:20Z INFO  warming cache: 1200000 items"),
            (30, f"2024-05-14T09:58:50Z WARN  upstream replied 401 to Authorization: Bearer {JWT}"),
        ],
        (CRASH_POD, "payments", True): [
            (140, "2024-05-14T09:56:00Z INFO  starting payments 1.5.0"),
            (139, f"2024-05-14T09:56:00Z INFO  connecting to {url}"),
            (100, "2024-05-14T09:56:39Z ERROR cache warm-up failed: MemoryError"),
            (99, "2024-05-14T09:56:40Z FATAL java.lang.OutOfMemoryError: Java heap space"),
        ],
        (APP_POD_1, "app", False): [
            (3000, "2024-05-14T09:10:00Z INFO  listening on :8000"),
            (900, '10.0.0.7 - - [14/May/2024:09:45:00 +0000] "GET /api/health HTTP/1.1" 200 2'),
            (400, f"2024-05-14T09:53:20Z ERROR payment call failed: {url} refused, token={JWT}"),
            (300, '10.0.0.9 - - [14/May/2024:09:55:00 +0000] "POST /api/checkout HTTP/1.1" 502 157'),
            (200, f"2024-05-14T09:56:40Z ERROR retry with AWS key {AWS_KEY} failed: upstream timed out"),
            (10, '10.0.0.7 - - [14/May/2024:09:59:50 +0000] "GET /api/health HTTP/1.1" 200 2'),
        ],
        (APP_POD_2, "app", False): [
            (3000, "2024-05-14T09:10:02Z INFO  listening on :8000"),
            (20, '10.0.0.8 - - [14/May/2024:09:59:40 +0000] "GET /api/health HTTP/1.1" 200 2'),
        ],
        (OLD_PAYMENTS_POD, "payments", False): [(500, "2024-05-14T09:51:40Z INFO  payments 1.4.2 healthy")],
    }


# ------------------------------------------------------------------------------------------ server
def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }


def _matches_selector(labels: dict[str, str], selector: str | None) -> bool:
    """Equality-based and `in` label selectors, as the adapter sends them."""
    if not selector:
        return True
    for term in re.split(r",(?![^(]*\))", selector):
        term = term.strip()
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif match := re.fullmatch(r"(!?)([\w./-]+)", term):
            if (match.group(2) in labels) == bool(match.group(1)):
                return False
        else:
            raise ValueError(term)
    return True


def _merge(target: dict, patch: dict) -> None:
    """JSON merge patch (RFC 7386): what strategic merge also does for the maps a restart or scale touches."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = json.loads(json.dumps(value))


class Reply:
    def __init__(self, code: int, body: dict | str) -> None:
        self.code, self.body = code, body


class FakeKubeAPI:
    """The server. Use as a context manager; `url`, `served`, `hang_paths` and `metrics` are public."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.pods = _pods(self.now)
        self.deployments = _deployments(self.now)
        self.replica_sets = _replica_sets(self.now)
        self.events = _events(self.now)
        self.nodes = [
            _node(self.now, "ip-10-0-1-11", False, "i-0a1b2c3d4e5f60011"),
            _node(self.now, PRESSURE_NODE, True, "i-0a1b2c3d4e5f60012"),
        ]
        self.pod_metrics = _pod_metrics(self.now)
        self.logs = _logs(self.now)
        self.metrics = (
            True  # False: metrics.k8s.io is not installed (404, like a cluster without metrics-server)
        )
        self.hang_paths: set[str] = set()  # requests to these paths block until the server stops
        self.served: list[tuple[str, str]] = []
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.writes: list[tuple[str, str, str, Any]] = []  # (verb, path, content type, JSON body)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-kube-api", daemon=True)

    # -- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeKubeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def write_kubeconfig(self, path: Path, context: str = "test") -> Path:
        """A kubeconfig pointing at this server over plain http, loaded by the client like any other."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "warroom", "user": {"token": "fake-service-account-token"}}],
            "contexts": [
                {"name": context, "context": {"cluster": "fake", "user": "warroom", "namespace": NAMESPACE}}
            ],
            "current-context": context,
        }
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML: the loader reads it unchanged
        return path

    def served_set(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self.served)

    # -- routing
    def _routes(self) -> list[tuple[re.Pattern[str], Callable[..., Reply]]]:
        ns = r"(?P<ns>[^/]+)"
        name = r"(?P<name>[^/]+)"
        table: list[tuple[str, Callable[..., Reply]]] = [
            (rf"/api/v1/namespaces/{ns}/pods", self._list_pods),
            (rf"/api/v1/namespaces/{ns}/pods/{name}", self._get_pod),
            (rf"/api/v1/namespaces/{ns}/pods/{name}/log", self._pod_log),
            (rf"/api/v1/namespaces/{ns}/events", self._list_events),
            (r"/api/v1/nodes", self._list_nodes),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments", self._list_deployments),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments/{name}", self._get_deployment),
            (rf"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", self._get_scale),
            (rf"/apis/apps/v1/namespaces/{ns}/replicasets", self._list_replica_sets),
            (rf"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", self._pod_metrics),
        ]
        return [(re.compile(f"^{pattern}$"), handler) for pattern, handler in table]

    def handle(self, method: str, raw_path: str, body: bytes = b"", content_type: str = "") -> Reply:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        with self._lock:
            self.served.append((method, path))
            self.queries.append((path, query))
        if path in self.hang_paths:
            self._stopping.wait(30)
            return Reply(504, _status(504, "Timeout", "the fake server was stopped"))
        if method in ("PATCH", "PUT"):
            return self._write(method, path, body, content_type.split(";")[0].strip())
        if method != "GET":
            return Reply(
                405, _status(405, "MethodNotAllowed", f"the fake server only reads; {method} refused")
            )
        for pattern, handler in self._routes():
            match = pattern.match(path)
            if match:
                groups = match.groupdict()
                if groups.get("ns") == FORBIDDEN_NAMESPACE:
                    return self._forbidden(path, groups)
                return handler(query=query, **groups)
        return Reply(404, _status(404, "NotFound", "the server could not find the requested resource"))

    # -- writes (PATCH / PUT of deployments and their scale subresource)
    _DEPLOYMENT_PATH = re.compile(
        r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/]+)(?P<scale>/scale)?$"
    )
    _MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")

    def _write(self, method: str, path: str, raw: bytes, content_type: str) -> Reply:
        match = self._DEPLOYMENT_PATH.match(path)
        if match is None:
            return Reply(
                405, _status(405, "MethodNotAllowed", f"the fake server does not take {method} on {path}")
            )
        ns, name, scale = match.group("ns"), match.group("name"), bool(match.group("scale"))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return Reply(400, _status(400, "BadRequest", "the body of the request was not valid JSON"))
        with self._lock:
            self.writes.append((method, path, content_type, body))
        if ns == FORBIDDEN_NAMESPACE:
            resource = "deployments/scale" if scale else "deployments"
            message = (
                f'{resource} "{name}" is forbidden: User "{SERVICE_ACCOUNT}" cannot {method.lower()} resource '
                f'"{resource}" in API group "apps" in the namespace "{ns}"'
            )
            return Reply(403, _status(403, "Forbidden", message, {"name": name, "kind": resource}))
        if method == "PATCH" and content_type not in self._MERGE_TYPES:
            return Reply(
                415,
                _status(
                    415,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: {', '.join(self._MERGE_TYPES)}",
                ),
            )
        if not isinstance(body, dict):
            return Reply(400, _status(400, "BadRequest", "the body must be a JSON object"))
        with self._lock:
            deployment = self._find(self.deployments, ns, name)
            if deployment is None:
                return self._not_found("deployments.apps", name)
            if scale:
                return self._write_scale(deployment, method, body)
            before = json.dumps(deployment["spec"]["template"], sort_keys=True)
            _merge(deployment, body)
            meta = deployment["metadata"]
            meta["generation"] = int(meta.get("generation", 1)) + 1
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
            if json.dumps(deployment["spec"]["template"], sort_keys=True) != before:
                annotations = meta.setdefault("annotations", {})
                revision = int(annotations.get("deployment.kubernetes.io/revision", "1")) + 1
                annotations["deployment.kubernetes.io/revision"] = str(revision)
            return Reply(200, json.loads(json.dumps(deployment)))

    @staticmethod
    def _scale_of(deployment: dict) -> dict:
        meta = deployment["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            },
            "spec": {"replicas": deployment["spec"].get("replicas", 1)},
            "status": {
                "replicas": deployment["status"].get("replicas", 0),
                "selector": ",".join(
                    f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
                ),
            },
        }

    def _write_scale(self, deployment: dict, method: str, body: dict) -> Reply:
        replicas = (body.get("spec") or {}).get("replicas")
        if method == "PUT" and body.get("kind") not in (None, "Scale"):
            return Reply(400, _status(400, "BadRequest", f"expected kind Scale, got {body.get('kind')}"))
        if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
            message = f'Scale.autoscaling "{deployment["metadata"]["name"]}" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0'
            return Reply(422, _status(422, "Invalid", message))
        if replicas is not None:
            deployment["spec"]["replicas"] = replicas
            meta = deployment["metadata"]
            meta["generation"] = int(meta.get("generation", 1)) + 1
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
        return Reply(200, self._scale_of(deployment))

    def _forbidden(self, path: str, groups: dict[str, str]) -> Reply:
        resource = path.rstrip("/").split("/")[-1 if "name" not in groups else -2]
        group = "metrics.k8s.io" if "metrics.k8s.io" in path else ("apps" if "/apis/apps/" in path else "")
        verb = "get" if "name" in groups else "list"
        message = (
            f'{resource} is forbidden: User "{SERVICE_ACCOUNT}" cannot {verb} resource "{resource}" '
            f'in API group "{group}" in the namespace "{groups["ns"]}"'
        )
        return Reply(403, _status(403, "Forbidden", message, {"kind": resource}))

    @staticmethod
    def _list(kind: str, api_version: str, items: list[dict]) -> Reply:
        return Reply(
            200,
            {
                "kind": kind,
                "apiVersion": api_version,
                "metadata": {"resourceVersion": "48151623"},
                "items": items,
            },
        )

    @staticmethod
    def _not_found(resource: str, name: str) -> Reply:
        return Reply(
            404, _status(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})
        )

    def _in_ns(self, objects: list[dict], ns: str, query: dict[str, list[str]]) -> list[dict]:
        selector = query.get("labelSelector", [None])[0]
        return [
            o for o in objects
            if o["metadata"].get("namespace") == ns and _matches_selector(o["metadata"].get("labels", {}), selector)
        ]  # fmt: skip

    def _list_pods(self, query: dict, ns: str) -> Reply:
        return self._list("PodList", "v1", self._in_ns(self.pods, ns, query))

    def _find(self, objects: list[dict], ns: str, name: str) -> dict | None:
        return next(
            (o for o in objects if o["metadata"]["name"] == name and o["metadata"].get("namespace") == ns),
            None,
        )

    def _get_pod(self, query: dict, ns: str, name: str) -> Reply:
        pod = self._find(self.pods, ns, name)
        return Reply(200, pod) if pod else self._not_found("pods", name)

    def _pod_log(self, query: dict, ns: str, name: str) -> Reply:
        pod = self._find(self.pods, ns, name)
        if pod is None:
            return self._not_found("pods", name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container", [None])[0]
        if container is None and len(containers) > 1:
            message = (
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            )
            return Reply(400, _status(400, "BadRequest", message))
        container = container or containers[0]
        if container not in containers:
            return Reply(
                400, _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
            )
        if pod["status"]["phase"] == "Pending":
            message = f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            return Reply(400, _status(400, "BadRequest", message))
        previous = query.get("previous", ["false"])[0] == "true"
        lines = self.logs.get((name, container, previous))
        if lines is None:
            if previous:
                message = f'previous terminated container "{container}" in pod "{name}" not found'
                return Reply(400, _status(400, "BadRequest", message))
            lines = []
        if "sinceSeconds" in query:
            since = int(query["sinceSeconds"][0])
            lines = [line for line in lines if line[0] <= since]
        texts = [text for _, text in lines]
        if "tailLines" in query:
            tail = int(query["tailLines"][0])
            texts = texts[-tail:] if tail else []
        return Reply(200, "".join(f"{text}\n" for text in texts))

    def _list_events(self, query: dict, ns: str) -> Reply:
        events = self._in_ns(self.events, ns, query)
        for term in query.get("fieldSelector", [""])[0].split(","):
            if term.startswith("type="):
                events = [e for e in events if e["type"] == term.split("=", 1)[1]]
        return self._list("EventList", "v1", events)

    def _list_nodes(self, query: dict) -> Reply:
        return self._list("NodeList", "v1", self.nodes)

    def _list_deployments(self, query: dict, ns: str) -> Reply:
        return self._list("DeploymentList", "apps/v1", self._in_ns(self.deployments, ns, query))

    def _get_deployment(self, query: dict, ns: str, name: str) -> Reply:
        deployment = self._find(self.deployments, ns, name)
        return Reply(200, deployment) if deployment else self._not_found("deployments.apps", name)

    def _get_scale(self, query: dict, ns: str, name: str) -> Reply:
        deployment = self._find(self.deployments, ns, name)
        return (
            Reply(200, self._scale_of(deployment))
            if deployment
            else self._not_found("deployments.apps", name)
        )

    def _list_replica_sets(self, query: dict, ns: str) -> Reply:
        return self._list("ReplicaSetList", "apps/v1", self._in_ns(self.replica_sets, ns, query))

    def _pod_metrics(self, query: dict, ns: str) -> Reply:
        if not self.metrics:
            return Reply(404, _status(404, "NotFound", "the server could not find the requested resource"))
        items = [m for m in self.pod_metrics if m["metadata"]["namespace"] == ns]
        return self._list("PodMetricsList", "metrics.k8s.io/v1beta1", items)

    # -- HTTP plumbing
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY each reply waits ~40 ms on
            # the client's delayed ACK, which would make the adapter look slow in the timings.
            disable_nagle_algorithm = True

            def _answer(self, body: bytes = b"") -> None:
                reply = api.handle(self.command, self.path, body, self.headers.get("Content-Type") or "")
                if isinstance(reply.body, str):
                    payload, content_type = reply.body.encode(), "text/plain"
                else:
                    payload, content_type = json.dumps(reply.body).encode(), "application/json"
                try:
                    self.send_response(reply.code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Audit-Id", f"fake-{time.monotonic_ns()}")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to tell it

            def _body(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length) if length else b"")

            do_GET = _answer
            do_POST = do_PUT = do_PATCH = do_DELETE = _body

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

        return Handler


@contextmanager
def kube_api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api
