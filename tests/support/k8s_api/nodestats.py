"""The kubelet's stats summary through the API server's node proxy (`nodes/<n>/proxy/stats/summary`):
the node with DiskPressure has its root filesystem 93 % full, the other 41 %; image filesystems beside."""

from __future__ import annotations

from tests.support.k8s_api.base import PRESSURE_NODE

GI = 1024**3


def make_summary(node: str) -> dict:
    used_ratio = 0.93 if node == PRESSURE_NODE else 0.41
    capacity = 80 * GI
    used = int(capacity * used_ratio)
    return {
        "node": {
            "nodeName": node,
            "fs": {"availableBytes": capacity - used, "capacityBytes": capacity, "usedBytes": used},
            "runtime": {
                "imageFs": {"availableBytes": 60 * GI, "capacityBytes": 100 * GI, "usedBytes": 40 * GI}
            },
        },
        "pods": [],
    }
