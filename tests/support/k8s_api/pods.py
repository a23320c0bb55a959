"""The incident's pods: healthy app replicas, a CrashLoopBackOff payments pod (OOMKilled), a Pending worker."""

from __future__ import annotations

from datetime import datetime

from tests.support.k8s_api.base import (
    APP_POD_1,
    APP_POD_2,
    CRASH_POD,
    OLD_PAYMENTS_POD,
    PENDING_POD,
    PRESSURE_NODE,
    make_container,
    make_meta,
    pod_conditions,
    running_state,
    stamp,
)


def make_pod(
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
        "metadata": make_meta(
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
            "nodeName": status.pop("make_node", None),
            "schedulerName": "default-scheduler",
        },
        "status": status,
    }


def make_pods(now: datetime) -> list[dict]:
    app_image = "registry.example.com/ecommerce-app:2.3.1"
    new_payments = "registry.example.com/payments:1.5.0"
    old_payments = "registry.example.com/payments:1.4.2"

    def healthy(image: str, name: str, node: str, age: float) -> dict:
        return {
            "make_node": node,
            "phase": "Running",
            "conditions": pod_conditions(now, True, age),
            "hostIP": "10.0.1.11",
            "podIP": "10.244.1.17",
            "startTime": stamp(now, age),
            "containerStatuses": [running_state(now, name, image, age)],
            "qosClass": "Burstable",
        }

    crash = {
        "make_node": "ip-10-0-1-11",
        "phase": "Running",
        "conditions": pod_conditions(now, False, 1800),
        "hostIP": "10.0.1.11",
        "podIP": "10.244.1.23",
        "startTime": stamp(now, 1800),
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
                        "startedAt": stamp(now, 140),
                        "finishedAt": stamp(now, 95),
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
                "lastTransitionTime": stamp(now, 600),
                "reason": "Unschedulable",
                "message": "0/2 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
                "{node.kubernetes.io/disk-pressure: }. preemption: 0/2 nodes are available: "
                "2 No preemption victims found for incoming pod.",
            }
        ],
        "qosClass": "Burstable",
    }
    return [
        make_pod(now, APP_POD_1, "ecommerce-app", "7d4b9c8f6d", make_container("app", app_image, "512Mi", "500m"),
             healthy(app_image, "app", "ip-10-0-1-11", 86400 * 3), 86400 * 3),
        make_pod(now, APP_POD_2, "ecommerce-app", "7d4b9c8f6d", make_container("app", app_image, "512Mi", "500m"),
             healthy(app_image, "app", PRESSURE_NODE, 86400 * 3), 86400 * 3),
        make_pod(now, CRASH_POD, "payments", "5c6d7e8f9b", make_container("payments", new_payments, "256Mi", "500m"),
             crash, 1800),
        make_pod(now, OLD_PAYMENTS_POD, "payments", "6f7a8b9c0d",
             make_container("payments", old_payments, "256Mi", "500m"),
             healthy(old_payments, "payments", PRESSURE_NODE, 86400 * 10), 86400 * 10),
        make_pod(now, PENDING_POD, "ecommerce-worker", "5f6a7b8c9d",
             make_container("worker", "registry.example.com/worker:2.3.1", "2Gi", "1"), pending, 600),
    ]  # fmt: skip
