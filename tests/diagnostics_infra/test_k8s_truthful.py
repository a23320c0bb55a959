"""`/diag triage` and `/diag k8s logs` say what is true of the service asked about, against the Kubernetes
API stand-in (namespace ecommerce: ecommerce-app healthy, payments crash-looping on OOM, a worker Pending).

The bugs these pin: a service's triage going red for ANOTHER deployment's crash loop; a crash loop
whose error is only in the previous run's logs passing as "no error lines"; `grep=` saying ✅ beside a
⚠️ and hiding the error lines it counted; `previous=true` giving a healthy pod a ⚠️.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.policy import Policy
from bot.diagnostics import triage
from bot.diagnostics.base import CheckResult, Level, Outcome
from bot.diagnostics.runner import run_check
from tests.support.k8s_api import APP_POD_1, APP_POD_2, CRASH_POD, PENDING_POD, FakeKubeAPI


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    with FakeKubeAPI() as api:  # each test its own API server: nothing shared across xdist workers
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        service = {"k8s": "prod", "namespace": "ecommerce"}
        yield Policy.model_validate(
            {
                "targets": {
                    "k8s": {
                        "prod": {
                            "kubeconfig": str(kubeconfig),
                            "context": "test",
                            "namespaces": ["ecommerce"],
                        }
                    }
                },
                "services": {
                    "checkout": {**service, "deployment": "ecommerce-app"},
                    "payments": {**service, "deployment": "payments"},
                },
                "diagnostics": {"timeout": "15s", "triage_timeout": "25s"},
            }
        )


def _logs(policy: Policy, ref: str, **options: str) -> CheckResult:
    return run_check(policy, "k8s", "logs", "prod", [ref], options, timeout=15)


def test_a_services_triage_covers_its_own_pods_and_events_only(policy: Policy) -> None:
    result = triage.run(policy, "checkout")
    text = "\n".join(f.message for f in result.findings)
    assert "payments" not in text and PENDING_POD not in text and "FailedScheduling" not in text, text
    assert "Pods: all 2 pods in deployment ecommerce-app (ecommerce) are running and ready" in text
    assert "Events: no warning events for deployment ecommerce-app (ecommerce)" in text
    assert result.outcome is Outcome.WARN  # its own error lines, not another deployment's crash loop
    assert all(f.level is not Level.CRIT for f in result.findings)


def test_the_crash_looping_service_has_its_events_and_its_previous_runs_error(policy: Policy) -> None:
    result = triage.run(policy, "payments")
    steps = {step.step.label: step.result for step in result.steps}
    events = "\n".join(f.message for f in steps["Events"].findings)
    assert "BackOff" in events and CRASH_POD in events and "FailedScheduling" not in events
    errors = next(f for f in steps["Error lines"].findings if "(previous" in f.message)
    assert errors.level is Level.WARN
    assert f"{CRASH_POD}/payments (previous, OOMKilled, exit 137)" in errors.message
    assert "before it crashed" in errors.message and "OutOfMemoryError" in errors.message
    assert "OutOfMemoryError" in steps["Error lines"].detail


def test_grep_headline_and_findings_agree_and_error_lines_are_shown(policy: Policy) -> None:
    result = _logs(policy, "deployment/ecommerce-app", grep="checkout")
    about_pod1 = [f for f in result.findings if f.message.startswith(f"{APP_POD_1}/app")]
    assert len(about_pod1) == 1, about_pod1  # one verdict per container, not ✅ beside ⚠️
    assert about_pod1[0].level is Level.WARN
    assert "error lines in the last" in about_pod1[0].message and "match `checkout`" in about_pod1[0].message
    section = next(s for s in result.detail.split("\n\n") if s.startswith(f"==> {APP_POD_1}/app"))
    assert "POST /api/checkout" in section  # the match
    assert (
        "ERROR payment call failed" in section and "ERROR retry with AWS key" in section
    )  # the errors counted
    quiet = next(f for f in result.findings if f.message.startswith(f"{APP_POD_2}/app"))
    assert (
        quiet.level is Level.OK and "0 of the last 2 lines match `checkout`; no error lines" in quiet.message
    )
    assert result.outcome is Outcome.WARN


def test_previous_on_a_deployment_leaves_its_healthy_pods_green(policy: Policy) -> None:
    result = _logs(policy, "deployment/ecommerce-app", previous="true")
    assert result.outcome is Outcome.OK, [(f.level, f.message) for f in result.findings]
    assert sum("has not restarted" in f.message for f in result.findings) == 2


def test_pods_and_events_take_a_deployment(policy: Policy) -> None:
    pods = run_check(policy, "k8s", "pods", "prod", [], {"deployment": "payments"}, timeout=15)
    names = {p["name"] for p in pods.data["pods"]}
    assert CRASH_POD in names and APP_POD_1 not in names and PENDING_POD not in names
    events = run_check(policy, "k8s", "events", "prod", [], {"deployment": "ecommerce-worker"}, timeout=15)
    assert events.data["reasons"] == {"FailedScheduling": 1}
