"""`/remediate k8s rollback` end to end against the Kubernetes API stand-in with ReplicaSet revisions:
preview with both images and the revision's age → Confirm → one JSON patch (uid and resourceVersion
tested, template replaced) → the controller's new revision, audit and timeline."""

from __future__ import annotations

from tests.remediation.conftest import CAROL, Bot
from tests.support.k8s_api import NAMESPACE

APP = "ecommerce-app"


def _deployment(bot: Bot, name: str) -> dict:
    return next(d for d in bot.kube.deployments if d["metadata"]["name"] == name)


def _revision_of(obj: dict) -> str:
    return str(obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def test_rollback_to_the_previous_revision_shows_both_images_and_rolls_back(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    preview = bot.remediate(f"k8s rollback {APP}")
    text = str(preview["text"]) + str(preview["blocks"])
    assert f"Roll back deployment {NAMESPACE}/{APP} to revision 2" in text
    assert "registry.example.com/ecommerce-app:2.3.1 → registry.example.com/ecommerce-app:2.3.0" in text
    assert "ecommerce-app-59c8b7f4d2, 9d old" in text  # the revision's ReplicaSet and age
    assert len(bot.kube.writes) == writes  # the preview changed nothing
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert f"Rolled back deployment {NAMESPACE}/{APP} to revision 2" in settled
    verb, path, content_type, body = bot.kube.writes[-1]
    assert (verb, path, content_type) == ("PATCH", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{APP}",
                                          "application/json-patch+json")  # fmt: skip
    assert [op["op"] for op in body] == ["test", "test", "replace"]
    deployment = _deployment(bot, APP)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.3.0")
    assert "pod-template-hash" not in deployment["spec"]["template"]["metadata"]["labels"]
    assert _revision_of(deployment) == "4"  # the controller gives the old template the next revision
    old = next(rs for rs in bot.kube.replica_sets if rs["metadata"]["name"] == "ecommerce-app-59c8b7f4d2")
    assert _revision_of(old) == "4"
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    assert bot.audit(since)[-1].data["result"]["new_revision"] == 4


def test_rollback_to_a_named_revision_and_the_refusals(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    assert "has no revision 9 (known: 1, 2)" in bot.ask("k8s rollback payments 9")
    assert "is at revision 2 already" in bot.ask("k8s rollback payments 2")
    assert "Revisions start at 1" in bot.ask("k8s rollback payments 0")
    assert "Too many arguments" in bot.ask("k8s rollback payments 1 2")
    assert len(bot.kube.writes) == writes
    preview = bot.remediate("k8s rollback payments 1")
    assert "registry.example.com/payments:1.5.0 → registry.example.com/payments:1.4.2" in preview["text"]
    bot.click(preview, CAROL)
    assert "Rolled back deployment ecommerce/payments to revision 1" in bot.settled(preview)
    image = _deployment(bot, "payments")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":1.4.2")
    assert [r.data.get("reason") for r in bot.audit(since)][:2] == ["not_found", "no_change"]


def test_rollback_refuses_when_the_deployment_changed_since_the_preview(bot: Bot) -> None:
    assert "no revision before 1" in bot.ask("k8s rollback ecommerce-worker")  # one revision only
    # `payments` (not the deployment the first test rolls back): under xdist this test may run alone.
    preview = bot.remediate("k8s rollback payments")
    # Someone deploys in between: a restart bumps the revision, so the preview is stale.
    restart = bot.remediate("k8s restart payments")
    bot.click(restart, CAROL)
    assert "started" in bot.settled(restart)
    writes, template = len(bot.kube.writes), str(_deployment(bot, "payments")["spec"]["template"])
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "was changed since the preview" in settled and "nothing was rolled back" in settled
    assert (
        len(bot.kube.writes) == writes and str(_deployment(bot, "payments")["spec"]["template"]) == template
    )
