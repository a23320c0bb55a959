"""The review reminder: due 3 days after resolve, then daily, exactly once a day, until review done."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.incidents import service as incidents
from bot.incidents import timeline
from bot.ports import Posted
from bot.postmortem import flows, reminders
from bot.postmortem.models import ReviewReminder
from bot.runtime import Runtime
from tests.postmortem.helpers import ONCALL, REPORTER, SCRIBE, FakePorts, at, declare, make_runtime, realistic

DAY = timedelta(days=1)
RESOLVED = at(150)
DUE = RESOLVED + 3 * DAY


def _resolved(runtime: Runtime) -> int:
    with runtime.session() as session:
        incident_id = realistic(session).id
    runtime.clock.set(RESOLVED)  # type: ignore[attr-defined]
    flows.on_resolved(runtime, incident_id, ONCALL)
    return incident_id


def _review_events(runtime: Runtime, incident_id: int) -> list[str]:
    with runtime.session() as session:
        return [e.text for e in timeline.events(session, incident_id, {"review"})]


def test_reminded_once_when_due_and_once_a_day_after(
    runtime: Runtime, clock: ManualClock, ports: FakePorts
) -> None:
    incident_id = _resolved(runtime)
    clock.set(DUE - timedelta(seconds=1))
    assert reminders.tick(runtime) == 0
    sent_per_day = []
    for _day in range(3):
        sent = 0
        for _second in range(0, 86_400, 600):  # the tick runs all day long (sampled every 10 min)
            clock.advance(600) if _second else clock.advance(1)
            sent += reminders.tick(runtime)
            sent += reminders.tick(runtime)  # and twice in the same second
        sent_per_day.append(sent)
    assert sent_per_day == [1, 1, 1]
    assert [user for user, _ in ports.dms] == [ONCALL] * 3  # the commander
    first = ports.dms[0][1]
    assert f"*INC-{incident_id}* (Checkout returns 502) is due now" in first
    assert "`/incident review done`" in first and "<#C0INC0001>" in first
    assert "(due 2026-01-08 11:30 UTC, 3d after the resolve)" in first
    assert "1 day overdue" in ports.dms[1][1] and "2 days overdue" in ports.dms[2][1]
    assert _review_events(runtime, incident_id) == [
        "Postmortem review due by 2026-01-08 11:30 UTC",
        "Review reminder 1 sent to <@U01ONCALL> (review due 2026-01-08 11:30 UTC)",
        "Review reminder 2 sent to <@U01ONCALL> (review due 2026-01-08 11:30 UTC)",
        "Review reminder 3 sent to <@U01ONCALL> (review due 2026-01-08 11:30 UTC)",
    ]


def test_review_done_stops_the_reminders(runtime: Runtime, clock: ManualClock, ports: FakePorts) -> None:
    incident_id = _resolved(runtime)
    clock.set(DUE)
    assert reminders.tick(runtime) == 1
    with runtime.session() as session:
        incident = incidents.get(session, incident_id)
        assert incident is not None
        reminders.mark_done(session, incident, SCRIBE, clock.now())
    clock.advance(5 * DAY)
    assert reminders.tick(runtime) == 0
    assert len(ports.dms) == 1
    assert _review_events(runtime, incident_id)[-1] == "Postmortem review done"


def test_a_bot_down_for_days_sends_one_reminder_not_a_burst(
    runtime: Runtime, clock: ManualClock, ports: FakePorts
) -> None:
    incident_id = _resolved(runtime)
    clock.set(DUE + 4 * DAY + timedelta(hours=3))
    assert reminders.tick(runtime) == 1
    assert reminders.tick(runtime) == 0
    with runtime.session() as session:
        row = session.get(ReviewReminder, incident_id)
        assert row is not None and row.next_at == DUE + 5 * DAY  # back on the daily cadence


def test_no_commander_reminds_the_reporter(runtime: Runtime, clock: ManualClock, ports: FakePorts) -> None:
    policy = Policy()
    with runtime.session() as session:
        incident = declare(session, policy)
        incidents.resolve(session, incident, REPORTER, at(30))
        incident_id = incident.id
    clock.set(at(30))
    flows.on_resolved(runtime, incident_id, REPORTER)
    clock.set(at(30) + 3 * DAY)
    assert reminders.tick(runtime) == 1
    assert ports.dms[0][0] == REPORTER


def test_a_failed_dm_is_retried_later_and_not_counted(
    runtime: Runtime, clock: ManualClock, ports: FakePorts
) -> None:
    incident_id = _resolved(runtime)
    clock.set(DUE)
    ports.fail_dm = "ratelimited"
    assert reminders.tick(runtime) == 0
    ports.fail_dm = None
    assert reminders.tick(runtime) == 0  # not every second
    clock.advance(reminders.RETRY_AFTER)
    assert reminders.tick(runtime) == 1
    with runtime.session() as session:
        row = session.get(ReviewReminder, incident_id)
        assert row is not None and row.reminders_sent == 1 and row.next_at == DUE + DAY


def test_reopened_incident_is_not_reminded(runtime: Runtime, clock: ManualClock, ports: FakePorts) -> None:
    incident_id = _resolved(runtime)
    with runtime.session() as session:
        incident = incidents.get(session, incident_id)
        assert incident is not None
        incidents.reopen(session, incident, ONCALL, RESOLVED + DAY)
    # even without the reopen hook wired, an open incident gets no review reminder
    clock.set(DUE)
    assert reminders.tick(runtime) == 0
    assert ports.dms == []


def test_review_done_before_resolve_says_what_to_do(runtime: Runtime) -> None:
    with runtime.session() as session:
        incident = realistic(session, resolve=False)
        with pytest.raises(incidents.IncidentError, match="`/incident resolve` first"):
            reminders.mark_done(session, incident, SCRIBE, at(200))


class SlowPorts(FakePorts):
    """A Slack that takes a while to answer: widens the window in which replicas could race."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def direct_message(self, user_id: str, text: str) -> Posted:
        time.sleep(0.05)
        with self.lock:
            return super().direct_message(user_id, text)


def test_two_replicas_never_double_remind(db_url: str) -> None:
    clock = ManualClock(RESOLVED)
    ports = SlowPorts()
    replicas = [make_runtime(db_url, clock=clock, ports=ports) for _ in range(2)]
    incident_id = _resolved(replicas[0])
    barrier = threading.Barrier(len(replicas))
    errors: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            for _ in range(5):
                barrier.wait()
                reminders.tick(runtime)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for day in range(3):
        clock.set(DUE + day * DAY + timedelta(minutes=1))
        threads = [threading.Thread(target=run, args=(rt,)) for rt in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(ports.dms) == 3, ports.dms
    assert len(_review_events(replicas[0], incident_id)) == 1 + 3
    for runtime in replicas:
        runtime.engine.dispose()
