"""The alert inbox does not grow for ever: applied events past `alerts.retention` are deleted, in
batches, while groups, incidents and unapplied events stay; a resend after pruning opens nothing new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.alerts import retention
from bot.alerts import timers as alerts_timers
from bot.alerts.models import AlertEvent
from bot.config.loader import PolicyError, load_policy_text
from tests.alerts.helpers import am_alert, am_webhook, event_count, groups, incidents, policy_text, post
from tests.harness import Harness


def _events(h: Harness) -> list[AlertEvent]:
    with h.runtime.session() as session:
        return list(session.scalars(select(AlertEvent).order_by(AlertEvent.id)))


def test_old_applied_events_go_and_everything_else_stays(
    harness: Harness, token: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    for n in range(5):  # five resends of a firing alert (its own times differ: five events)
        alert = am_alert("CheckoutDown", severity="critical", starts=f"2026-11-0{n + 1}T00:00:00Z")
        assert post(h.url, "prometheus", am_webhook([alert]), token[1]).status == 200
    h.wait_until(lambda: all(e.processed_at for e in _events(h)) and len(_events(h)) == 5, 15)
    (incident,) = incidents(h.runtime)
    ids = [e.id for e in _events(h)]
    now = h.runtime.clock.now()
    # The alerts processor held off (a pass still going round would apply the event marked unapplied).
    with alerts_timers._running:
        with h.runtime.session() as session:  # three are 40 days old, one of them never applied
            session.execute(
                update(AlertEvent)
                .where(AlertEvent.id.in_(ids[:3]))
                .values(received_at=now - timedelta(days=40))
            )
            session.execute(update(AlertEvent).where(AlertEvent.id == ids[2]).values(processed_at=None))
        monkeypatch.setattr(retention, "BATCH", 1)  # several batches, as with a large inbox

        assert retention.tick(h.runtime) == 2
        assert [e.id for e in _events(h)] == ids[2:]
        assert [i.id for i in incidents(h.runtime)] == [incident.id] and len(groups(h.runtime)) == 1
        assert retention.tick(h.runtime) == 0  # a second replica's run finds nothing left


def test_a_resend_after_pruning_folds_into_the_same_incident(
    harness: Harness, token: tuple[str, str]
) -> None:
    h = harness
    alert = am_alert("QueueStuck", severity="critical")
    post(h.url, "prometheus", am_webhook([alert]), token[1])
    h.wait_until(lambda: incidents(h.runtime) and all(e.processed_at for e in _events(h)), 15)
    with h.runtime.session() as session:
        session.execute(update(AlertEvent).values(received_at=h.runtime.clock.now() - timedelta(days=31)))
    assert retention.tick(h.runtime) == 1 and event_count(h.runtime) == 0
    post(h.url, "prometheus", am_webhook([alert]), token[1])  # the same payload, its event gone
    h.wait_until(lambda: event_count(h.runtime) == 1 and all(e.processed_at for e in _events(h)), 15)
    assert len(incidents(h.runtime)) == 1 and len(groups(h.runtime)) == 1


def test_retention_below_a_day_is_refused(token: tuple[str, str]) -> None:
    with pytest.raises(PolicyError, match=r"alerts\.retention must be at least 1d"):
        load_policy_text(policy_text(token[0], alerts_extra="  retention: 1h\n"))
    assert load_policy_text(policy_text(token[0])).alerts.retention == timedelta(days=30)
