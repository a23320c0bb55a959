"""`/remediate k8s rotate-secret` end to end against the Kubernetes API stand-in (Secrets, a JSON patch of
the deployment, the rollout as the controller reports it): preview → Confirm → a new Secret with fresh
values for the named keys, the deployment reading it, the old one kept and labelled; values nowhere
in Slack, the audit or the logs."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.remediation.conftest import CAROL, Bot
from tests.support.k8s_api import NAMESPACE, FakeKubeAPI
from tests.support.k8s_api import secrets as planted

APP, OLD = "ecommerce-app", planted.SECRET_NAME


@pytest.fixture(scope="module")
def sbot(kube: FakeKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """A bot that watches a rollout for 4 s, so a stalled one is reported soon."""
    from kubernetes.client import AppsV1Api, CoreV1Api  # noqa: F401  (a cold import can take seconds here)

    tmp = tmp_path_factory.mktemp("rotate")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    kubeconfig = kube.write_kubeconfig(tmp / "kubeconfig")
    policy = Policy.model_validate(
        {
            "targets": {
                "k8s": {"prod": {"kubeconfig": str(kubeconfig), "context": "test", "namespaces": [NAMESPACE]}}
            },
            "roles": {"remediators": [CAROL]},
            "remediation": {"bounds": {"rollout_watch": "4s"}},
            "diagnostics": {"timeout": "8s", "rate_limit": {"per_minute": 10_000}},
        }
    )
    with Harness(url, policy=policy, clock=ManualClock()) as h:
        yield Bot(h, ManualClock(), kube, "")


@pytest.fixture(autouse=True)
def cluster(kube: FakeKubeAPI) -> None:
    kube.reset()
    planted.install(kube)


def _secret(kube: FakeKubeAPI, name: str) -> dict[str, Any]:
    return next(s for s in kube.secrets if s["metadata"]["name"] == name)


def _values(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _deployment(kube: FakeKubeAPI, name: str) -> dict[str, Any]:
    return next(d for d in kube.deployments if d["metadata"]["name"] == name)


def _everything_said(bot: Bot) -> str:
    """Every Slack call of the run and every audit row, as one text."""
    calls = json.dumps([c.params for c in bot.h.emulator.calls], ensure_ascii=False)
    with bot.h.runtime.session() as session:
        rows = [(r.target, r.detail, r.data) for r in session.scalars(select(AuditEntry))]
    return calls + json.dumps(rows, ensure_ascii=False, default=str)


def test_rotate_secret_previews_then_rotates_and_watches_the_rollout(
    sbot: Bot, kube: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    since, writes = sbot.last_audit_id(), len(kube.writes)
    preview = sbot.remediate(f"k8s rotate-secret {APP} DB_PASSWORD,API_KEY")
    text = blocks_to_text(preview.get("blocks"), preview.get("text"))
    assert f"Rotate keys of Secret {NAMESPACE}/{OLD} for deployment {APP}" in text
    assert "DB_PASSWORD, API_KEY" in text and "ecommerce-app, ecommerce-worker" in text
    assert "ecommerce-worker also read ecommerce-app-secrets and keep the old values" in text
    assert len(kube.writes) == writes  # the preview changed nothing

    sbot.click(preview, CAROL)
    settled = sbot.settled(preview)
    assert f"Rotated DB_PASSWORD, API_KEY of Secret {NAMESPACE}/{OLD} into {OLD}-r" in settled
    assert "rollout complete: 2/2 updated, 2 available" in settled

    new_name = next(
        s["metadata"]["name"] for s in kube.secrets if s["metadata"]["name"].startswith(f"{OLD}-r")
    )
    new, old = _values(_secret(kube, new_name)), _values(_secret(kube, OLD))
    assert old == planted.PLANTED  # the old Secret is kept as it was…
    assert _secret(kube, OLD)["metadata"]["labels"]["warroom.io/rotated-out"] == "true"  # …and labelled
    assert _secret(kube, OLD)["metadata"]["annotations"]["warroom.io/rotated-to"] == new_name
    assert new["SESSION_KEY"] == old["SESSION_KEY"]  # copied
    assert new["DB_PASSWORD"] != old["DB_PASSWORD"] and new["API_KEY"] != old["API_KEY"]
    assert len(new["DB_PASSWORD"]) >= 40 and new["DB_PASSWORD"] != new["API_KEY"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in _deployment(kube, APP)["spec"]["template"]["spec"]["containers"][0]["env"]
        if "valueFrom" in e
    }
    assert set(refs.values()) == {new_name}
    worker = _deployment(kube, "ecommerce-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["envFrom"] == [{"secretRef": {"name": OLD}}]  # not asked for: untouched
    base = f"/namespaces/{NAMESPACE}"
    assert [(w[0], w[1].split(base)[-1], w[2]) for w in kube.writes[writes:]] == [
        ("POST", "/secrets", "application/json"),
        ("PATCH", f"/deployments/{APP}", "application/json-patch+json"),
        ("PATCH", f"/secrets/{OLD}", "application/merge-patch+json"),
    ]
    assert sbot.outcomes(since) == ["requested", "confirmed", "ok"]
    result = sbot.audit(since)[-1].data["result"]
    assert result["new_secret"] == new_name and result["keys"] == ["DB_PASSWORD", "API_KEY"]

    said = _everything_said(sbot) + caplog.text
    for value in [*new.values(), *old.values()]:
        assert value not in said and base64.b64encode(value.encode()).decode() not in said


def test_rotate_secret_refusals_change_nothing(sbot: Bot, kube: FakeKubeAPI) -> None:
    writes = len(kube.writes)
    refusal = sbot.ask(f"k8s rotate-secret {APP} DB_PASSWORD,NOPE")
    assert "No Secret read by ecommerce/ecommerce-app holds all of DB_PASSWORD, NOPE" in refusal
    assert "(it reads: ecommerce-app-secrets)" in refusal
    assert "No deployment `nothing-here`" in sbot.ask("k8s rotate-secret nothing-here API_KEY")
    assert "Name the Secret keys" in sbot.ask(f"k8s rotate-secret {APP} 'x;rm'")
    assert "does not read the Secret other" in sbot.ask(f"k8s rotate-secret {APP} API_KEY secret=other")
    preview = sbot.remediate(f"k8s rotate-secret {APP} API_KEY")
    seen = sbot.private_count(sbot.h.bob)
    sbot.click(preview, sbot.h.bob)
    assert "not a remediator" in sbot.private(sbot.h.bob, seen)
    assert len(kube.writes) == writes and len(kube.secrets) == 2


def test_a_stalled_rollout_is_reported_as_still_going(sbot: Bot, kube: FakeKubeAPI) -> None:
    kube.rollouts = "stall"
    preview = sbot.remediate(f"k8s rotate-secret {APP} SESSION_KEY")
    sbot.click(preview, CAROL)
    settled = sbot.settled(preview, timeout=40)
    assert "rollout still going when the watch ended" in settled and f"/diag k8s rollout {APP}" in settled


def test_a_mounted_secret_whose_rollout_fails_is_reported_failed(sbot: Bot, kube: FakeKubeAPI) -> None:
    kube.rollouts = "fail"
    preview = sbot.remediate("k8s rotate-secret payments tls.key")
    assert "Rotate keys of Secret ecommerce/payments-tls for deployment payments" in preview["text"]
    sbot.click(preview, CAROL)
    settled = sbot.settled(preview, timeout=40)
    assert "rollout FAILED" in settled and "timed out progressing" in settled
    volume = _deployment(kube, "payments")["spec"]["template"]["spec"]["volumes"][0]
    assert volume["secret"]["secretName"].startswith("payments-tls-r")
