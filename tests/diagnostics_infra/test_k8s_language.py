"""The language in force reaches the threads checks run in: a per-person override (a contextvar, not the
workspace default) set around a `/diag` run comes out in the findings built inside the worker threads
of the runner and of triage, against the Kubernetes API stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.policy import Policy
from bot.diagnostics import triage
from bot.diagnostics.runner import run_check
from bot.i18n import default_language, use_language
from tests.support.k8s_api import CRASH_POD, FakeKubeAPI


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[Policy]:
    with FakeKubeAPI() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
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
                "services": {"payments": {"k8s": "prod", "namespace": "ecommerce", "deployment": "payments"}},
                "diagnostics": {"timeout": "15s", "triage_timeout": "25s"},
            }
        )


def test_a_check_thread_renders_in_the_callers_language(policy: Policy) -> None:
    assert default_language() == "en"
    with use_language("zh"):
        result = run_check(policy, "k8s", "pods", "prod", timeout=15)
    crash = next(f for f in result.findings if CRASH_POD in f.message)
    assert "，重启 " in crash.message and "查看上一次运行的日志" in (crash.fix or "")
    # The same run without the override is English: the thread took the caller's context, not a global.
    english = run_check(policy, "k8s", "pods", "prod", timeout=15)
    assert any(CRASH_POD in f.message and " restarts" in f.message for f in english.findings)


def test_triage_threads_render_in_the_callers_language(policy: Policy) -> None:
    with use_language("zh"):
        result = triage.run(policy, "payments")
    pods = [f.message for f in result.findings if f.message.startswith("Pod：")]
    assert pods and any("，重启 " in m for m in pods), pods
    assert any(m.startswith("错误日志：") and "行错误" in m for m in (f.message for f in result.findings))
