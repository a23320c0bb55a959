"""POST /alerts/<source> with Alertmanager's webhook v4: auth, storage, auto declare, folding, resolution."""

from __future__ import annotations

from bot.alerts.models import AlertGroup
from bot.escalation.engine import run_due
from tests.alerts.helpers import (
    ONCALL,
    all_text,
    am_alert,
    am_webhook,
    event_count,
    groups,
    incidents,
    post,
    timeline,
    wait_ticking,
)
from tests.harness import Harness


def _wait_group(h: Harness, state: str, count: int = 1) -> list[AlertGroup]:
    return h.wait_until(
        lambda: (g := groups(h.runtime)) and sum(x.state == state for x in g) >= count and g, 15
    )


def test_wrong_or_missing_token_is_401_and_stores_nothing(harness: Harness, token: tuple[str, str]) -> None:
    payload = am_webhook([am_alert("HighErrorRate")])
    assert post(harness.url, "prometheus", payload, None).status == 401
    assert post(harness.url, "prometheus", payload, "not-the-token").status == 401
    assert post(harness.url, "nosuch", payload, token[1]).status == 404
    assert event_count(harness.runtime) == 0
    assert incidents(harness.runtime) == []


def test_critical_alert_opens_a_war_room_with_the_alert_in_the_summary(
    harness: Harness, token: tuple[str, str]
) -> None:
    h = harness
    alert = am_alert(
        "HighErrorRate",
        annotations={
            "summary": "Checkout 5xx above 5% <!channel>",
            "description": "see <https://evil.example|google.com>",
        },
    )
    answer = post(h.url, "prometheus", am_webhook([alert]), token[1])
    assert answer.status == 200
    assert event_count(h.runtime) == 1  # committed before the 2xx
    [group] = _wait_group(h, "declared")
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 15)
    assert incident.severity == "p1" and incident.title.startswith("Checkout 5xx above 5%")
    channel = h.wait_until(lambda: h.incident_channel(), 15)
    # The summary (pinned, updated with the alert) shows the alert's text, labels and links, escaped.
    summary = h.wait_until(
        lambda: next((m for m in h.emulator.messages(channel.id) if "Labels:" in all_text(m)), None), 15
    )
    text = all_text(summary)
    assert "see &lt;https://evil.example|google.com&gt;" in text
    assert "<!channel>" not in text and "‹!channel›" in text
    assert "<http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29|Source>" in text
    assert "|Silence>" in text and "/diag triage checkout" in text

    # Tier 1 is paged through the normal ladder. A pass skips rows another transaction holds for a
    # moment (SKIP LOCKED; the set-up may be recording a step), so pass again as the tick would.
    def paged() -> list:
        run_due(h.runtime)
        return h.emulator.dms(ONCALL)

    dms = h.wait_until(paged, 10)
    assert any(incident.title[:20] in all_text(m) for m in dms)
    assert group.incident_id == incident.id


def test_same_payload_twice_changes_nothing_and_repeats_fold(
    harness: Harness, token: tuple[str, str]
) -> None:
    h = harness
    first = am_alert("HighErrorRate", labels={"instance": "a"})
    payload = am_webhook([first])
    assert post(h.url, "prometheus", payload, token[1]).status == 200
    [group] = _wait_group(h, "declared")
    assert post(h.url, "prometheus", payload, token[1]).status == 200  # Alertmanager's repeat
    assert event_count(h.runtime) == 1
    # New alerts join the group: folded into one count, not a room (or a message) each.
    for instance in ("b", "c", "d"):
        alerts = [first, am_alert("HighErrorRate", labels={"instance": instance})]
        assert post(h.url, "prometheus", am_webhook(alerts), token[1]).status == 200
    wait_ticking(
        h,
        lambda: groups(h.runtime)[0].told_repeats == 3 and groups(h.runtime)[0].dirty_at is None,
    )
    assert len(incidents(h.runtime)) == 1
    channel = h.incident_channel()
    folds = [m for m in h.emulator.messages(channel.id) if "Alert repeated" in m.get("text", "")]
    assert len(folds) == 1 and "3 more notifications" in folds[0]["text"]
    [fold_event] = [
        e for e in timeline(h.runtime, group.incident_id, "alert") if e.dedupe_key.startswith("alert-fold")
    ]
    assert "3 more notifications" in fold_event.text


def test_resolution_is_told_with_a_resolve_button_and_a_new_firing_opens_a_linked_incident(
    harness: Harness, token: tuple[str, str]
) -> None:
    h = harness
    # The room exists in Slack a second before the bot hears so: the resolution arrives while the
    # war room is still being set up, and is told on a later tick, once the room is recorded.
    h.emulator.latency("conversations.create", 1.0, after=True)
    alert = am_alert("HighErrorRate")
    post(h.url, "prometheus", am_webhook([alert]), token[1])
    [group] = _wait_group(h, "declared")
    channel = h.wait_until(lambda: h.incident_channel(), 15)
    resolved = {**alert, "status": "resolved"}
    assert post(h.url, "prometheus", am_webhook([resolved]), token[1]).status == 200
    notice = wait_ticking(
        h,
        lambda: next(
            (m for m in h.emulator.messages(channel.id) if "alert group resolved" in m.get("text", "")), None
        ),
    )
    assert "incident_resolve" in all_text(notice)  # the Resolve button
    assert incidents(h.runtime)[0].status == "declared"  # no auto_resolve on this route: people decide
    h.driver.block_action(h.alice, channel.id, notice["ts"], "incident_resolve")
    h.wait_until(lambda: incidents(h.runtime)[0].status == "resolved", 10)
    # It fires again: a new incident, linking the previous one.
    again = am_alert("HighErrorRate", starts="2026-12-03T05:00:00Z")
    post(h.url, "prometheus", am_webhook([again]), token[1])
    second = h.wait_until(lambda: len(incidents(h.runtime)) == 2 and incidents(h.runtime)[1], 15)
    h.wait_until(lambda: groups(h.runtime)[0].incident_id == second.id, 10)
    [opened] = [e for e in timeline(h.runtime, second.id, "alert") if e.dedupe_key.startswith("alert:")]
    assert f"fired again after INC-{group.incident_id}" in opened.text
