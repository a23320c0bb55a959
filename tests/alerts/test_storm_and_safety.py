"""Storms fold into one incident; alert text is escaped, clipped and masked; metrics and doctor."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from tests.alerts.helpers import (
    ANNOUNCE,
    ONCALL,
    all_text,
    am_alert,
    am_webhook,
    groups,
    incidents,
    policy,
    post,
    timeline,
    wait_ticking,
)
from tests.harness import Harness


@pytest.fixture
def h(db_url: str, token: tuple[str, str]) -> Iterator[Harness]:
    with Harness(db_url, policy=policy(token[0], alerts_extra="  storm_threshold: 3")) as harness:
        harness.emulator.add_user("oncall", id=ONCALL)
        harness.emulator.add_channel("incidents", id=ANNOUNCE)
        yield harness


def test_past_the_threshold_new_groups_fold_into_one_storm_incident(
    h: Harness, token: tuple[str, str]
) -> None:
    names = [f"Service{n}Down" for n in range(7)]
    for name in names:
        assert post(h.url, "prometheus", am_webhook([am_alert(name)], group=name), token[1]).status == 200

    # The storm's notice waits for the storm's room, made by the set-up after the declaration commits.
    wait_ticking(
        h,
        lambda: len(groups(h.runtime)) == 8 and all(g.dirty_at is None for g in groups(h.runtime)),
        timeout=30,
    )
    states = sorted(g.state for g in groups(h.runtime) if not g.is_storm)
    assert states == ["declared"] * 3 + ["stormed"] * 4
    assert len(incidents(h.runtime)) == 4  # three rooms, then one storm room instead of four more

    def rooms() -> int:
        return len([c for c in h.emulator.calls_to("conversations.create") if c.ok])

    h.wait_until(lambda: rooms() >= 4, 15)  # rooms are made after the declare commits
    h.wait_idle()
    assert rooms() == 4
    [storm] = [g for g in groups(h.runtime) if g.is_storm]
    [storm_incident] = [i for i in incidents(h.runtime) if i.id == storm.incident_id]
    room = h.emulator.get_channel(storm_incident.channel_id or "")
    assert room is not None
    assert "alert-storm" in room.name
    listing = h.wait_until(
        lambda: next(
            (m for m in h.emulator.messages(room.id) if "4 alert groups" in m.get("text", "")), None
        ),
        15,
    )
    stormed = [g.title for g in groups(h.runtime) if g.state == "stormed"]
    for title in stormed:  # which four is up to arrival order; all four are listed
        assert title in all_text(listing)
    assert any("Alert storm" in e.text for e in timeline(h.runtime, storm.incident_id, "alert"))


def test_alert_text_is_escaped_clipped_and_masked(h: Harness, token: tuple[str, str]) -> None:
    hostile = am_alert(
        "Leak",
        annotations={
            "summary": "<!here> <@U0ALICE> click <http://evil.example|status page> " + "long " * 80,
            "description": "password=hunter2 token: xoxb-1234567890-abcdefghij " + "A" * 5000,
        },
        labels={"db_url": "postgresql://app:s3cret@db:5432/shop"},
    )
    hostile["generatorURL"] = "javascript:alert(1)"
    post(h.url, "prometheus", am_webhook([hostile], group="leak"), token[1])
    room = h.wait_until(lambda: h.incident_channel(), 15)
    summary = h.wait_until(
        lambda: next((m for m in h.emulator.messages(room.id) if "Labels:" in all_text(m)), None), 15
    )
    text = all_text(summary)
    for secret in ("hunter2", "xoxb-1234567890", "s3cret"):
        assert secret not in text
    assert "<!here>" not in text and "<@U0ALICE>" not in text and "<http://evil.example|" not in text
    assert "javascript:" not in text
    assert "A" * 2100 not in text  # clipped
    [group] = groups(h.runtime)
    assert "hunter2" not in str(group.detail) and "s3cret" not in str(group.detail)
    [incident] = incidents(h.runtime)  # a 400-character summary still opens an incident, its title clipped
    assert len(incident.title) <= 140 and incident.title.endswith("…")


def test_metrics_count_deliveries_by_source_and_status(h: Harness, token: tuple[str, str]) -> None:
    post(h.url, "prometheus", am_webhook([am_alert("A")]), token[1])
    post(h.url, "prometheus", am_webhook([am_alert("A")]), token[1])
    post(h.url, "prometheus", am_webhook([am_alert("A")]), "wrong")
    with urllib.request.urlopen(f"{h.url}/metrics", timeout=5) as reply:
        body = reply.read().decode()
    lines = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("warroom_alerts_received_total")
    }
    # Counters are per process (xdist workers run other tests too): compare to at least these.
    assert lines['warroom_alerts_received_total{source="prometheus",status="accepted"}'] >= 1
    assert lines['warroom_alerts_received_total{source="prometheus",status="duplicate"}'] >= 1
    assert lines['warroom_alerts_received_total{source="prometheus",status="unauthorized"}'] >= 1
    assert "warroom_alerts_ingest_seconds_bucket" in body
