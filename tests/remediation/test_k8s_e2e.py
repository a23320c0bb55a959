"""`/remediate k8s` end to end: signed slash command → Bolt → preview → signed Confirm → PATCH on the
Kubernetes API stand-in (through the official client and a kubeconfig) → settled message, audit, timeline."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from tests.remediation.conftest import CAROL, DAVE, TTL_SECONDS, Bot
from tests.support.k8s_api import NAMESPACE

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _replicas(bot: Bot, name: str) -> int:
    deployment = next(d for d in bot.kube.deployments if d["metadata"]["name"] == name)
    return int(deployment["spec"]["replicas"])


def _token(message: dict) -> str:
    block = next(b for b in message["blocks"] if b.get("block_id") == "remediate_actions")
    return str(block["elements"][0]["value"])


def test_restart_patches_the_restarted_at_annotation(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    preview = bot.remediate("k8s restart ecommerce-app")  # one k8s target: it may be left out
    text = preview["text"]
    assert "Rollout restart of deployment ecommerce/ecommerce-app" in text
    assert len(bot.kube.writes) == writes  # a preview changes nothing
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "Done" in settled and "Rollout restart of deployment ecommerce/ecommerce-app started" in settled
    verb, path, content_type, body = bot.kube.writes[-1]
    assert (verb, path) == ("PATCH", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/ecommerce-app")
    assert content_type == "application/strategic-merge-patch+json"
    stamp = body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
    assert stamp.endswith("Z") and stamp in settled
    assert (
        "PATCH",
        f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/ecommerce-app",
    ) in bot.kube.served_set()
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    rows = bot.audit(since)
    assert (
        rows[0].actor == bot.h.alice
        and rows[1].actor == CAROL
        and rows[2].target == "k8s prod restart ecommerce-app"
    )


def test_scale_within_bounds_by_a_group_member(bot: Bot) -> None:
    since = bot.last_audit_id()
    assert _replicas(bot, "ecommerce-app") == 2
    preview = bot.remediate("k8s prod scale ecommerce-app 4")
    assert "replicas" in preview["text"] and "2 → 4" in preview["text"]
    bot.click(preview, DAVE)  # a remediator through the user group S0SRE
    settled = bot.settled(preview)
    assert "Scaled deployment ecommerce/ecommerce-app to 4 replicas" in settled
    assert _replicas(bot, "ecommerce-app") == 4
    verb, path, content_type, body = bot.kube.writes[-1]
    assert (verb, path, body) == ("PATCH", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/ecommerce-app/scale",
                                  {"spec": {"replicas": 4}})  # fmt: skip
    assert content_type == "application/merge-patch+json"
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    assert bot.audit(since)[1].data["via"] == "S0SRE"


def test_scale_out_of_bounds_is_refused_naming_the_bounds(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    answer = bot.ask("k8s scale ecommerce-app 50")
    assert "Out of bounds" in answer and "50 replicas is out of bounds" in answer and "1 to 6" in answer
    answer = bot.ask("k8s scale ecommerce-app 0")
    assert "1 to 6" in answer
    assert len(bot.kube.writes) == writes
    assert bot.outcomes(since) == ["refused", "refused"]
    assert bot.audit(since)[0].data["reason"] == "out_of_bounds"


def test_non_remediator_is_refused_and_nothing_changes_then_second_click_is_refused(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    before = _replicas(bot, "payments")
    preview = bot.remediate("k8s scale payments 3")
    token = _token(preview)  # the emulator updates the message in place: keep the button's value
    seen = bot.private_count(bot.h.bob)
    bot.click(preview, bot.h.bob)
    refusal = bot.private(bot.h.bob, seen)
    assert "Not allowed" in refusal and "not a remediator" in refusal
    assert "<@U0CAROL>" in refusal and "<!subteam^S0SRE>" in refusal  # who may
    assert len(bot.kube.writes) == writes and _replicas(bot, "payments") == before
    assert bot.message(preview["ts"]).get("blocks")[-1]["block_id"] == "remediate_actions"  # buttons stay
    # The requester is no remediator either: asking is not confirming.
    seen_alice = bot.private_count(bot.h.alice)
    bot.click(preview, bot.h.alice)
    assert "Not allowed" in bot.private(bot.h.alice, seen_alice)
    bot.click(preview, CAROL)
    assert "Scaled deployment ecommerce/payments to 3 replicas" in bot.settled(preview)
    assert _replicas(bot, "payments") == 3
    # A second click (the message is gone from view, but the payload is replayable): refused, once-only.
    seen_carol = bot.private_count(CAROL)
    bot.click(preview, CAROL, value=token)
    used = bot.private(CAROL, seen_carol)
    assert "Already used" in used and "confirmed by <@U0CAROL>" in used
    assert len(bot.kube.writes) == writes + 1
    assert bot.outcomes(since) == ["requested", "refused", "refused", "confirmed", "ok", "refused"]
    assert [r.data.get("reason") for r in bot.audit(since) if r.outcome == "refused"] == [
        "not_allowed", "not_allowed", "already_used"
    ]  # fmt: skip


def test_tampered_token_is_refused(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    preview = bot.remediate("k8s scale ecommerce-app 5")
    token = _token(preview)
    version, payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["args"] = ["ecommerce-app", "6"]  # a different change under the old signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    seen = bot.private_count(CAROL)
    bot.click(preview, CAROL, value=f"{version}.{forged}.{mac}")
    assert "Tampered" in bot.private(CAROL, seen)
    bot.click(preview, CAROL, value="r1.not-a-token")
    assert "Tampered" in bot.private(CAROL, seen + 1)
    assert len(bot.kube.writes) == writes
    # The genuine button still works afterwards.
    bot.click(preview, CAROL)
    assert "to 5 replicas" in bot.settled(preview)
    assert bot.outcomes(since) == ["requested", "refused", "refused", "confirmed", "ok"]


def test_expired_token_is_refused_and_the_preview_settles(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    preview = bot.remediate("k8s restart payments")
    bot.clock.advance(timedelta(seconds=TTL_SECONDS + 1))
    seen = bot.private_count(CAROL)
    bot.click(preview, CAROL)
    assert "Expired" in bot.private(CAROL, seen)
    assert "Expired" in bot.settled(preview)
    assert len(bot.kube.writes) == writes
    assert bot.outcomes(since) == ["requested", "refused"]
    assert bot.audit(since)[1].data["reason"] == "expired"


def test_cancel_by_requester_and_not_by_others(bot: Bot) -> None:
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    preview = bot.remediate("k8s restart ecommerce-worker")
    token = _token(preview)
    seen = bot.private_count(bot.h.bob)
    bot.click(preview, bot.h.bob, action="remediate_cancel")
    assert "only the requester or a remediator may cancel" in bot.private(bot.h.bob, seen)
    bot.click(preview, bot.h.alice, action="remediate_cancel")
    assert "Cancelled" in bot.settled(preview)
    seen_carol = bot.private_count(CAROL)
    bot.click(preview, CAROL, value=token)  # confirming a cancelled request
    assert "cancelled by <@U0ALICE>" in bot.private(CAROL, seen_carol)
    assert len(bot.kube.writes) == writes
    assert bot.outcomes(since) == ["requested", "refused", "cancelled", "refused"]


def test_usage_errors_are_answered_in_the_ack_and_recorded_nowhere(bot: Bot) -> None:
    since = bot.last_audit_id()
    assert "Unknown k8s remediation `delete`" in bot.ask("k8s delete ecommerce-app")
    assert "Unknown k8s target `staging`. Known: `prod`." in bot.ask("k8s staging restart x")
    assert "not a valid Kubernetes deployment name" in bot.ask("k8s restart Bad_Name")
    assert "whole number" in bot.ask("k8s scale ecommerce-app many")
    assert "Missing arguments" in bot.ask("k8s scale ecommerce-app")
    assert "No deployment `ghost`" in bot.ask("k8s restart ghost")
    assert "/remediate k8s restart" in bot.ask("help")
    assert bot.outcomes(since) == []


def test_in_an_incident_channel_every_decision_is_on_the_timeline(bot: Bot) -> None:
    incident = bot.h.declare(user=bot.h.alice)
    channel = incident.channel_id
    assert _replicas(bot, "ecommerce-app") == 2  # the cluster as seeded, whatever ran before
    preview = bot.remediate("k8s scale ecommerce-app 3", channel=channel)
    bot.click(preview, bot.h.bob, channel=channel)  # refused (bob is not in the channel: told by DM)
    bot.wait(lambda: len(bot.timeline(incident.id)) >= 2)
    bot.click(preview, CAROL, channel=channel)
    assert "to 3 replicas" in bot.settled(preview, channel)
    events = bot.wait(lambda: (e := bot.timeline(incident.id)) and len(e) >= 4 and e)
    stages = [(e.actor, e.data["stage"], e.data["outcome"]) for e in events]
    assert stages == [
        (bot.h.alice, "requested", "requested"),
        (bot.h.bob, "refused", "refused"),
        (CAROL, "confirmed", "confirmed"),
        (CAROL, "result", "ok"),
    ]
    assert events[-1].data["command"] == "/remediate k8s prod scale ecommerce-app 3"
    assert "replicas 2 → 3" in events[-1].text
    assert all(row.incident_id == incident.id for row in bot.audit() if row.channel_id == channel)


def test_where_the_bot_cannot_post_the_preview_is_private_to_the_requester(bot: Bot) -> None:
    channel = bot.h.emulator.add_channel("no-bot-here", bot_member=False, members=[bot.h.alice, CAROL]).id
    since, writes = bot.last_audit_id(), len(bot.kube.writes)
    response = bot.h.command("k8s restart ecommerce-app", channel=channel, name="/remediate")
    assert response.status == 200
    preview = bot.wait(
        lambda: next((e for e in bot.h.emulator.ephemerals(channel, bot.h.alice) if e.get("blocks")), None)
    )
    assert "Invite the bot" in json.dumps(preview["blocks"])
    assert bot.h.emulator.messages(channel) == []
    bot.click(preview, bot.h.alice, action="remediate_cancel", channel=channel)
    bot.wait(
        lambda: any(
            "Cancelled" in (e.get("text") or "") for e in bot.h.emulator.ephemerals(channel, bot.h.alice)
        )
    )
    assert len(bot.kube.writes) == writes
    assert bot.outcomes(since) == ["requested", "cancelled"]
