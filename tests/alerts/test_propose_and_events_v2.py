"""Proposals (Declare/Dismiss, confirm_within), unmatched alerts in /incident alerts, events-v2, limits."""

from __future__ import annotations

import threading
import time

import pytest

from bot.alerts import timers
from bot.app import build_runtime
from bot.config.settings import Settings
from tests.alerts.helpers import (
    ANNOUNCE,
    all_text,
    am_alert,
    am_webhook,
    event_count,
    groups,
    incidents,
    pd_event,
    policy,
    post,
    wait_ticking,
)
from tests.harness import Harness
from tests.support.raw_http import raw_post


def _proposal(h: Harness) -> dict:
    return h.wait_until(
        lambda: next(
            (m for m in h.emulator.messages(ANNOUNCE) if "declare an incident?" in m.get("text", "")), None
        ),
        15,
    )


def test_warning_is_proposed_and_declare_as_p2_opens_it(harness: Harness, token: tuple[str, str]) -> None:
    h = harness
    post(h.url, "prometheus", am_webhook([am_alert("DiskFilling", severity="warning")]), token[1])
    message = _proposal(h)
    text = all_text(message)
    assert "Declare P3" in text and "Dismiss" in text and "Declared automatically at" in text
    assert incidents(h.runtime) == []
    h.driver.block_action(
        h.bob, ANNOUNCE, message["ts"], "alert_severity", selected_value=f"{groups(h.runtime)[0].id}:p2"
    )
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 15)
    assert incident.severity == "p2"
    # The proposal now says who declared it, and has no buttons left.
    updated = h.wait_until(
        lambda: next(
            (
                m
                for m in h.emulator.messages(ANNOUNCE)
                if m["ts"] == message["ts"] and "Declared INC-" in all_text(m)
            ),
            None,
        ),
        15,
    )
    assert f"<@{h.bob}>" in all_text(updated) and "alert_dismiss" not in all_text(updated)
    # A late click on Dismiss changes nothing and says why.
    h.driver.block_action(
        h.carol, ANNOUNCE, message["ts"], "alert_dismiss", value=str(groups(h.runtime)[0].id)
    )
    # Carol is not in the announcements channel: she is told in a DM instead of an ephemeral.
    h.wait_until(
        lambda: any(
            "already answered" in m.get("text", "")
            for m in [*h.emulator.ephemerals(user=h.carol), *h.emulator.dms(h.carol)]
        ),
        10,
    )
    assert len(incidents(h.runtime)) == 1


def test_dismiss_keeps_it_out(harness: Harness, token: tuple[str, str]) -> None:
    h = harness
    post(h.url, "prometheus", am_webhook([am_alert("DiskFilling", severity="warning")]), token[1])
    message = _proposal(h)
    h.driver.block_action(h.bob, ANNOUNCE, message["ts"], "alert_dismiss")
    h.wait_until(
        lambda: groups(h.runtime)[0].state == "dismissed" and groups(h.runtime)[0].dirty_at is None, 10
    )
    timers.tick(h.runtime)
    assert incidents(h.runtime) == []
    assert "Dismissed by" in all_text(
        next(m for m in h.emulator.messages(ANNOUNCE) if m["ts"] == message["ts"])
    )


def test_unmatched_alerts_are_recorded_and_listed(harness: Harness, token: tuple[str, str]) -> None:
    h = harness
    post(h.url, "prometheus", am_webhook([am_alert("OddThing", severity="none")], group="odd"), token[1])
    post(h.url, "prometheus", am_webhook([am_alert("Watchdog", severity="none")], group="wd"), token[1])
    h.wait_until(lambda: {g.state for g in groups(h.runtime)} == {"unmatched", "ignored"}, 10)
    reply = h.reply(h.command("alerts"))
    assert "unmatched" in reply or "alert group" in reply
    answer = h.emulator.wait_for(lambda: [c for c in h.emulator.calls if c.method == "response_url"], 10)
    listing = all_text(answer[-1].params)
    assert "OddThing" in listing and listing.index("unmatched") < listing.index("ignored")
    assert incidents(h.runtime) == []


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_confirm_within_declares_once_with_two_replicas(db_url: str, token: tuple[str, str]) -> None:
    text_policy = policy(token[0])
    with Harness(db_url, policy=text_policy) as h:
        h.emulator.add_channel("incidents", id=ANNOUNCE)
        routes = text_policy.alerts.routes[1]
        assert routes.confirm_within is not None
        # A route that gives people 1 s, so the test need not wait 2 minutes.
        fast = text_policy.model_copy(
            update={
                "alerts": text_policy.alerts.model_copy(
                    update={
                        "routes": [
                            routes.model_copy(
                                update={"confirm_within": __import__("datetime").timedelta(seconds=1)}
                            )
                        ]
                    }
                )
            }
        )
        h.runtime.policy = fast
        post(h.url, "prometheus", am_webhook([am_alert("DiskFilling", severity="warning")]), token[1])
        _proposal(h)
        other = build_runtime(
            Settings(
                slack_bot_token=h.emulator.bot_token, slack_api_url=h.emulator.api_url, database_url=db_url
            ),
            fast,
        )
        try:
            time.sleep(1.2)
            threads = [
                threading.Thread(target=timers.run_once, args=(rt,))
                for rt in (h.runtime, other, h.runtime, other)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            h.wait_until(lambda: groups(h.runtime)[0].state == "declared", 15)
            assert len(incidents(h.runtime)) == 1
            made = lambda: [c for c in h.emulator.calls_to("conversations.create") if c.ok]  # noqa: E731
            h.wait_until(made, 15)  # the room is made after the declare commits
            h.wait_idle()
            assert len(made()) == 1
        finally:
            other.executor.shutdown(wait=True)
            other.engine.dispose()


def test_events_v2_trigger_ack_resolve(harness: Harness, token: tuple[str, str]) -> None:
    h = harness
    answer = post(h.url, "pd", pd_event("trigger", "srv01/disk", token[1]), None)
    assert answer.status == 202
    assert answer.body == {"status": "success", "message": "Event processed", "dedup_key": "srv01/disk"}
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 15)
    assert incident.title == "Disk full on db-1" and incident.severity == "p1"
    # The same event again: 202, nothing new. A fresh trigger on the key: folded.
    assert post(h.url, "pd", pd_event("trigger", "srv01/disk", token[1]), None).status == 202
    assert event_count(h.runtime) == 1
    post(h.url, "pd", pd_event("trigger", "srv01/disk", token[1], timestamp="2026-12-03T03:05:00Z"), None)

    wait_ticking(h, lambda: groups(h.runtime)[0].told_repeats == 1)
    assert post(h.url, "pd", pd_event("acknowledge", "srv01/disk", token[1]), None).status == 202
    h.wait_until(lambda: incidents(h.runtime)[0].status == "acknowledged", 10)
    assert post(h.url, "pd", pd_event("resolve", "srv01/disk", token[1]), None).status == 202
    channel = h.incident_channel()
    wait_ticking(
        h,
        lambda: any("alert group resolved" in m.get("text", "") for m in h.emulator.messages(channel.id)),
    )
    assert len(incidents(h.runtime)) == 1


def test_events_v2_without_dedup_key_gets_one_and_bad_events_are_400(
    harness: Harness, token: tuple[str, str]
) -> None:
    h = harness
    answer = post(h.url, "pd", pd_event("trigger", None, token[1]), None)
    assert answer.status == 202 and len(answer.body["dedup_key"]) >= 16
    assert post(h.url, "pd", pd_event("trigger", "k", "wrong-routing-key"), None).status == 401
    bad = pd_event("trigger", "k", token[1])
    bad["payload"]["severity"] = "catastrophic"
    reply = post(h.url, "pd", bad, None)
    assert reply.status == 400 and reply.body["status"] == "invalid event"
    assert post(h.url, "pd", pd_event("resolve", None, token[1]), None).status == 400
    assert event_count(h.runtime) == 1


def test_body_over_one_mib_is_413_and_not_json_is_400(harness: Harness, token: tuple[str, str]) -> None:
    h = harness
    big = b'{"alerts": "' + b"x" * (1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token[1]}"}
    port = int(h.url.rsplit(":", 1)[1])
    assert raw_post(port, "/alerts/prometheus", {**headers, "Content-Length": str(len(big))}, big) == 413
    assert post(h.url, "prometheus", None, token[1], raw=b"{not json").status == 400
    assert event_count(h.runtime) == 0
