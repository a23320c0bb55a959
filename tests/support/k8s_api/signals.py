"""What the cluster says about itself: events, nodes (one under DiskPressure), pod metrics, pod logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.k8s_api.base import (
    APP_POD_1,
    APP_POD_2,
    AWS_KEY,
    CRASH_POD,
    DB_PASSWORD,
    JWT,
    NAMESPACE,
    OLD_PAYMENTS_POD,
    PENDING_POD,
    make_meta,
    stamp,
)


def make_event(
    now: datetime, kind: str, reason: str, pod: str, message: str, count: int, age: float, component: str
) -> dict:
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": make_meta(now, f"{pod}.17a2b3c4d5e6f{count:03d}", age),
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
        "firstTimestamp": stamp(now, age + 1500),
        "lastTimestamp": stamp(now, age),
        "count": count,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
    }


def make_events(now: datetime) -> list[dict]:
    return [
        make_event(now, "Warning", "BackOff", CRASH_POD, "Back-off restarting failed container payments in pod "
               f"{CRASH_POD}_ecommerce(uid-{CRASH_POD})", 42, 30, "kubelet"),
        make_event(now, "Warning", "FailedScheduling", PENDING_POD, "0/2 nodes are available: 1 Insufficient memory, "
               "1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }.", 9, 120, "default-scheduler"),
        make_event(now, "Normal", "Pulled", CRASH_POD, 'Container image "registry.example.com/payments:1.5.0" '
               "already present on machine", 7, 95, "kubelet"),
        make_event(now, "Normal", "Scheduled", APP_POD_1, f"Successfully assigned ecommerce/{APP_POD_1} to "
               "ip-10-0-1-11", 1, 3000, "default-scheduler"),
    ]  # fmt: skip


def make_node(now: datetime, name: str, disk_pressure: bool, instance: str) -> dict:
    def condition(kind: str, status: bool, reason: str, message: str) -> dict:
        return {
            "type": kind,
            "status": "True" if status else "False",
            "lastHeartbeatTime": stamp(now, 20),
            "lastTransitionTime": stamp(now, 3600 if status else 86400 * 20),
            "reason": reason,
            "message": message,
        }

    spec: dict[str, Any] = {"providerID": f"aws:///us-east-1a/{instance}"}
    if disk_pressure:
        spec["taints"] = [
            {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule", "timeAdded": stamp(now, 3600)}
        ]
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": make_meta(
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


def make_pod_metrics(now: datetime) -> list[dict]:
    def metrics(pod: str, container: str, cpu: str, memory: str) -> dict:
        return {
            "metadata": {
                "name": pod,
                "namespace": NAMESPACE,
                "creationTimestamp": stamp(now, 0),
                "labels": {"app": pod.rsplit("-", 2)[0]},
            },
            "timestamp": stamp(now, 12),
            "window": "15.011s",
            "containers": [{"name": container, "usage": {"cpu": cpu, "memory": memory}}],
        }

    return [
        # 480Mi of a 512Mi limit: the guide's 内存溢出 in the making.
        metrics(APP_POD_1, "app", "412000000n", "491520Ki"),
        metrics(APP_POD_2, "app", "120m", "210Mi"),
        metrics(OLD_PAYMENTS_POD, "payments", "35m", "120Mi"),
    ]


def make_logs(now: datetime) -> dict[tuple[str, str, bool], list[tuple[float, str]]]:
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
