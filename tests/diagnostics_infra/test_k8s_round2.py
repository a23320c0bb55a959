"""`/diag k8s disk` (the guide's `df -h` per node, from the kubelet stats summary) and `/diag k8s suspicious`, through the API
stand-in's node proxy, with the guide's cleanups as the fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config.policy import Policy
from bot.diagnostics.base import Level, Outcome
from bot.diagnostics.runner import run_check
from tests.support.k8s_api import APP_POD_2, PRESSURE_NODE, FakeKubeAPI


@pytest.fixture(scope="module")
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as server:
        yield server


@pytest.fixture(scope="module")
def policy(api: FakeKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Policy:
    kubeconfig = api.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    return Policy.model_validate(
        {"targets": {"k8s": {"prod": {"kubeconfig": str(kubeconfig), "namespaces": ["ecommerce"]}}}}
    )


def test_disk_per_node_flags_the_full_one_with_the_guides_fixes(policy: Policy, api: FakeKubeAPI) -> None:
    result = run_check(policy, "k8s", "disk", "prod", [], {}, timeout=10)
    assert result.outcome is Outcome.CRIT, result.findings
    [full] = result.findings
    assert full.level is Level.CRIT
    assert full.message == f"node {PRESSURE_NODE} (i-0a1b2c3d4e5f60012): root fs 93% used (74Gi of 80Gi)"
    assert "/remediate docker prune" in (full.fix or "") and "journalctl --vacuum-time=7d" in (full.fix or "")
    assert "/remediate aws ebs-grow" in (full.fix or "")
    assert result.data["disk_percent"]["ip-10-0-1-11"] == {"root fs": 41.0, "image fs": 40.0}
    assert ("GET", f"/api/v1/nodes/{PRESSURE_NODE}/proxy/stats/summary") in api.served_set()
    assert "USE%" in result.detail and "93%" in result.detail


def test_suspicious_on_a_pods_access_log(policy: Policy, api: FakeKubeAPI) -> None:
    probes = [
        (5, '203.0.113.7 - - [14/May/2024:09:59:55 +0000] "GET /.env HTTP/1.1" 404 0'),
        (4, '203.0.113.7 - - [14/May/2024:09:59:56 +0000] "GET /admin/config.php HTTP/1.1" 404 0'),
        (3, "203.0.113.7 - - [14/May/2024:09:59:57 +0000] \"GET /search?q=1'+OR+'1'='1 HTTP/1.1\" 500 0"),
    ]
    api.logs[(APP_POD_2, "app", False)] = [*api.logs.get((APP_POD_2, "app", False), []), *probes]
    result = run_check(policy, "k8s", "suspicious", "prod", [APP_POD_2], {}, timeout=10)
    messages = [f.message for f in result.findings]
    assert result.outcome is Outcome.WARN, messages
    assert any(m.startswith("2 probe request(s) from 203.0.113.7") for m in messages)
    assert any(m.startswith("1 sql injection request(s) from 203.0.113.7") for m in messages)
    assert result.data["per_ip"]["203.0.113.7"] == {"requests": 3, "4xx": 2, "5xx": 1}
    assert ("GET", f"/api/v1/namespaces/ecommerce/pods/{APP_POD_2}/log") in api.served_set()
