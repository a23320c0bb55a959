"""`/diag k8s` against a local Kubernetes API stand-in, through the official client and a kubeconfig."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.policy import Policy
from bot.diagnostics import k8s
from bot.diagnostics.base import Level, Outcome, UsageError
from bot.diagnostics.grammar import parse
from bot.diagnostics.runner import run_check
from tests.diagnostics_infra.leaks import assert_no_secrets, everything
from tests.support.k8s_api import (
    APP_POD_1,
    APP_POD_2,
    CRASH_POD,
    PENDING_POD,
    PRESSURE_NODE,
    SECRETS,
    FakeKubeAPI,
)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as server:
        yield server


@pytest.fixture(scope="module")
def policy(api: FakeKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Policy:
    kubeconfig = api.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    return Policy.model_validate(
        {
            "targets": {
                "k8s": {
                    "prod": {"kubeconfig": str(kubeconfig), "context": "test", "namespaces": ["ecommerce"]},
                    "locked": {
                        "kubeconfig": str(kubeconfig),
                        "context": "test",
                        "namespaces": ["kube-system"],
                    },
                }
            }
        }
    )


def run(policy: Policy, check: str, *args: str, target: str = "prod", timeout: float = 10, **options: str):
    return run_check(policy, "k8s", check, target, list(args), options, timeout=timeout)


def messages(result) -> str:
    return "\n".join(f"{f.level} {f.message} | {f.fix}" for f in result.findings)


# ------------------------------------------------------------------------------- what users read
def test_pods_flags_crashloop_restarts_oom_and_pending(policy: Policy) -> None:
    result = run(policy, "pods")
    assert result.outcome is Outcome.CRIT, messages(result)
    crash = next(f for f in result.findings if CRASH_POD in f.message)
    assert crash.level is Level.CRIT
    assert (
        "CrashLoopBackOff" in crash.message and "7 restarts" in crash.message and "OOMKilled" in crash.message
    )
    assert f"/diag k8s logs {CRASH_POD} previous=true" in crash.fix
    assert "/remediate k8s restart payments" in crash.fix and "调整内存限制" in crash.fix
    pending = next(f for f in result.findings if PENDING_POD in f.message)
    assert (
        pending.level is Level.WARN
        and "Pending" in pending.message
        and "Insufficient memory" in pending.message
    )
    assert not any(APP_POD_1 in f.message for f in result.findings)  # healthy pods are not flagged
    for name in (APP_POD_1, APP_POD_2, CRASH_POD, PENDING_POD):
        assert name in result.detail
    assert re.search(rf"{CRASH_POD}\s+0/1\s+CrashLoopBackOff\s+7", result.detail)


def test_logs_previous_of_crashed_pod_are_masked(policy: Policy, api: FakeKubeAPI) -> None:
    result = run(policy, "logs", CRASH_POD, previous="true")
    assert "OutOfMemoryError" in result.detail
    assert any("error lines" in f.message and f.level is Level.WARN for f in result.findings)
    assert "postgres://app:*****@db" in result.detail
    assert_no_secrets(result, SECRETS)
    path, query = next(q for q in reversed(api.queries) if q[0].endswith("/log"))
    assert path == f"/api/v1/namespaces/ecommerce/pods/{CRASH_POD}/log"
    assert (
        query["previous"] == ["true"] and query["container"] == ["payments"] and query["tailLines"] == ["100"]
    )


def test_logs_of_deployment_reads_its_pods_with_tail(policy: Policy, api: FakeKubeAPI) -> None:
    result = run(policy, "logs", "deployment/ecommerce-app", tail="3")
    assert f"==> {APP_POD_1}/app <==" in result.detail and f"==> {APP_POD_2}/app <==" in result.detail
    assert '"POST /api/checkout HTTP/1.1" 502' in result.detail  # a 5xx access-log line counts as an error
    assert result.data["error_lines"][APP_POD_1] == 2
    assert "AWS key *****" in result.detail
    assert_no_secrets(result, SECRETS)
    selectors = [q["labelSelector"] for p, q in api.queries if p.endswith("/pods") and "labelSelector" in q]
    assert ["app=ecommerce-app"] in selectors


def test_logs_since_and_grep(policy: Policy, api: FakeKubeAPI) -> None:
    result = run(policy, "logs", CRASH_POD, since="1m", grep="bearer")
    shown = result.detail.split("\n\n")[0].splitlines()[1:]  # the current run; its crashed one follows
    assert len(shown) == 1 and "Bearer *****" in shown[0]
    assert any("1 of the last 2 lines match `bearer`; no error lines" in f.message for f in result.findings)
    query = next(q for p, q in reversed(api.queries) if p.endswith("/log"))
    assert query["sinceSeconds"] == ["60"]
    assert_no_secrets(result, SECRETS)


def test_logs_previous_without_restart_is_not_a_problem(policy: Policy) -> None:
    result = run(policy, "logs", APP_POD_2, previous="true")
    assert result.outcome is Outcome.OK
    assert "has not restarted, so there is no previous run to read" in messages(result)


def test_top_flags_memory_near_limit(policy: Policy) -> None:
    result = run(policy, "top")
    flagged = next(f for f in result.findings if APP_POD_1 in f.message)
    assert flagged.level is Level.CRIT and "94% of its memory limit" in flagged.message
    assert "重启服务，调整内存限制" in flagged.fix
    assert re.search(rf"{APP_POD_1}\s+412m\s+82%\s+480Mi\s+94%", result.detail)


def test_top_without_metrics_api_says_so(policy: Policy, api: FakeKubeAPI) -> None:
    api.metrics = False
    try:
        result = run(policy, "top")
    finally:
        api.metrics = True
    assert result.outcome is Outcome.WARN
    assert "metrics API (metrics.k8s.io) is not available" in result.findings[0].message
    assert "metrics-server" in result.findings[0].fix


def test_events_lists_warnings_with_fixes(policy: Policy, api: FakeKubeAPI) -> None:
    result = run(policy, "events")
    text = messages(result)
    assert "BackOff ×42" in text and "FailedScheduling ×9" in text
    backoff = next(f for f in result.findings if f.message.startswith("BackOff"))
    assert backoff.level is Level.CRIT and f"/diag k8s logs {CRASH_POD} previous=true" in backoff.fix
    assert "Pulled" not in result.detail and "Scheduled " not in result.detail  # Normal events filtered out
    query = next(q for p, q in reversed(api.queries) if p.endswith("/events"))
    assert query["fieldSelector"] == ["type=Warning"]


def test_rollout_stuck_is_named_with_history(policy: Policy) -> None:
    result = run(policy, "rollout", "payments")
    assert result.outcome is Outcome.CRIT
    stuck = result.findings[0]
    assert "rollout of payments is stuck" in stuck.message and "ProgressDeadlineExceeded" in stuck.message
    assert "--to-revision=1" in stuck.fix
    assert result.data["revisions"] == [2, 1]
    assert re.search(r"2\s+payments-5c6d7e8f9b\s+registry.example.com/payments:1.5.0\s+0/1", result.detail)
    assert re.search(r"1\s+payments-6f7a8b9c0d\s+registry.example.com/payments:1.4.2\s+1/1", result.detail)


def test_rollout_complete(policy: Policy) -> None:
    result = run(policy, "rollout", "deployment/ecommerce-app")
    assert result.outcome is Outcome.OK
    assert "rollout of ecommerce-app is complete: revision 3, 2/2 ready" in result.findings[0].message


def test_nodes_flags_disk_pressure(policy: Policy) -> None:
    result = run(policy, "nodes")
    assert result.outcome is Outcome.CRIT
    (finding,) = result.findings
    assert f"node {PRESSURE_NODE}: DiskPressure" in finding.message
    assert "磁盘空间不足" in finding.fix and "/remediate aws ebs-grow" in finding.fix
    assert re.search(rf"{PRESSURE_NODE}\s+Ready\s+worker\s+20d\s+v1.29.4\s+DiskPressure", result.detail)


# ------------------------------------------------------------------------------------ safety
@pytest.mark.parametrize(
    "text",
    [
        "k8s logs Payments-abc",
        "k8s logs pay_ments",
        "k8s logs -rf",
        "k8s logs ../../etc/passwd",
        "k8s logs deployment/Bad",
        "k8s logs " + "a" * 254,
        "k8s rollout pay;ments",
        "k8s pods ns=Kube_System",
        "k8s logs ok-pod container=Bad",
        "k8s logs ok-pod tail=0",
        "k8s logs ok-pod since=soon",
    ],
)
def test_invalid_input_is_refused_before_any_call(policy: Policy, api: FakeKubeAPI, text: str) -> None:
    before = len(api.served)
    with pytest.raises(UsageError):
        parse(policy, text)  # answered in the ack, offline
    command = text.split()[1:]
    args = [t for t in command[1:] if "=" not in t]
    options = dict(t.split("=", 1) for t in command[1:] if "=" in t)
    with pytest.raises(UsageError, match=r"DNS-1123|takes|read from a pod"):
        run_check(policy, "k8s", command[0], "prod", args, options)  # and again at run time
    assert len(api.served) == before


def test_namespace_outside_target_is_refused(policy: Policy, api: FakeKubeAPI) -> None:
    before = len(api.served)
    result = run(policy, "pods", ns="kube-system")
    assert result.outcome is Outcome.REFUSED
    assert "kube-system" in result.error and "allowed: ecommerce" in result.error
    assert len(api.served) == before


def test_forbidden_namespace_is_reported(policy: Policy) -> None:
    result = run(policy, "pods", target="locked")
    assert result.outcome is Outcome.ERROR
    assert "403 Forbidden" in result.error and "cannot list resource" in result.error
    assert "RBAC" in result.findings[0].fix


def test_unknown_pod_is_a_usage_error(policy: Policy) -> None:
    with pytest.raises(UsageError, match="No pod or deployment `nope` in namespace ecommerce"):
        run(policy, "logs", "nope")
    with pytest.raises(UsageError, match="No deployment `nope`"):
        run(policy, "rollout", "nope")


def test_bare_deployment_name_reads_its_pods(policy: Policy) -> None:
    """`/diag k8s logs ecommerce-app`: the name people know is the deployment's, not a pod's."""
    result = run(policy, "logs", "ecommerce-app", tail="1")
    assert set(result.data["error_lines"]) == {APP_POD_1, APP_POD_2}


def test_timeout_is_reported_as_timeout(policy: Policy, api: FakeKubeAPI) -> None:
    api.hang_paths.add("/api/v1/nodes")
    try:
        started = time.monotonic()
        result = run(policy, "nodes", timeout=1)
        elapsed = time.monotonic() - started
    finally:
        api.hang_paths.discard("/api/v1/nodes")
    assert result.outcome is Outcome.TIMEOUT
    assert "timed out after 1 s" in result.error
    assert elapsed < 3


def test_unreachable_api_is_an_error(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        '{"apiVersion": "v1", "kind": "Config", "current-context": "x",'
        ' "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],'
        ' "users": [{"name": "u", "user": {}}], "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}'
    )
    policy = Policy.model_validate({"targets": {"k8s": {"down": {"kubeconfig": str(kubeconfig)}}}})
    result = run_check(policy, "k8s", "pods", "down", [], {}, timeout=5)
    assert result.outcome is Outcome.ERROR and "Can't reach the Kubernetes API" in result.error


# --------------------------------------------------------------------------------- contracts
def test_no_secret_in_any_check_output(policy: Policy) -> None:
    for check, args, options in [
        ("pods", [], {}),
        ("logs", [CRASH_POD], {}),
        ("logs", [CRASH_POD], {"previous": "true"}),
        ("logs", ["deployment/ecommerce-app"], {}),
        ("logs", ["deploy/payments"], {"grep": "error|bearer|key"}),
        ("top", [], {}),
        ("events", [], {}),
        ("rollout", ["payments"], {}),
        ("nodes", [], {}),
    ]:
        result = run_check(policy, "k8s", check, "prod", args, options, timeout=10)
        assert result.outcome is not Outcome.ERROR, result.error
        assert_no_secrets(result, SECRETS)
        assert "fake-service-account-token" not in everything(result)


def test_served_paths_are_the_declared_gets(policy: Policy, api: FakeKubeAPI) -> None:
    """Every request is a GET on a path in k8s.API_PATHS: the list the RBAC role is written from."""
    for check, args in [("pods", []), ("logs", ["deployment/payments"]), ("top", []), ("events", []),
                        ("rollout", ["payments"]), ("nodes", []), ("logs", [CRASH_POD])]:  # fmt: skip
        run_check(policy, "k8s", check, "prod", args, {}, timeout=10)
    templates = [
        (verb, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$")) for verb, path in k8s.API_PATHS
    ]
    served = api.served_set()
    for verb, path in served:
        assert any(verb == v and rx.match(path) for v, rx in templates), f"undeclared {verb} {path}"
    for verb, rx in templates:
        assert any(verb == v and rx.match(p) for v, p in served), f"declared but unused: {rx.pattern}"


def test_adapter_loads_without_the_kubernetes_client() -> None:
    """The bot starts fast: registering the adapter must not import the client library."""
    code = "import sys, bot.diagnostics.k8s; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
