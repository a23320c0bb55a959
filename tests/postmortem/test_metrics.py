"""Response figures: the ordinary case and the edge cases (never acknowledged, reopened, still open)."""

from __future__ import annotations

from datetime import timedelta

from bot.postmortem.figures import Metrics, Moment, Verdict, compute
from bot.postmortem.reminders import next_slot
from tests.postmortem.helpers import T0, at

HOUR = timedelta(hours=1)


def figures(
    status: str, moments: list[Moment], *, now_min: float = 600, target: timedelta = HOUR, **row
) -> Metrics:
    fields = {"acknowledged_at": None, "acknowledged_by": None, "mitigated_at": None, "resolved_at": None}
    fields.update(row)
    return compute(declared_at=T0, status=status, target=target, moments=moments, now=at(now_min), **fields)


def test_ordinary_incident_against_its_target() -> None:
    m = figures(
        "resolved",
        [
            Moment(at(4), "acknowledged", "U1"),
            Moment(at(80), "mitigated", "U1"),
            Moment(at(150), "resolved", "U2"),
        ],
        acknowledged_at=at(4),
        acknowledged_by="U1",
        mitigated_at=at(80),
        resolved_at=at(150),
    )
    assert (m.time_to_acknowledge.elapsed, m.time_to_acknowledge.verdict) == (
        timedelta(minutes=4),
        Verdict.MET,
    )
    assert (m.time_to_mitigate.elapsed, m.time_to_mitigate.verdict) == (timedelta(minutes=80), Verdict.MISSED)
    assert (m.time_to_resolve.elapsed, m.time_to_resolve.verdict) == (timedelta(minutes=150), Verdict.MISSED)
    assert m.duration == m.open_time == timedelta(minutes=150)
    assert m.milestones.resolved_by == "U2" and not m.is_open


def test_exactly_on_the_target_is_met() -> None:
    m = figures("acknowledged", [Moment(at(60), "acknowledged", "U1")], acknowledged_at=at(60), now_min=61)
    assert m.time_to_acknowledge.verdict is Verdict.MET


def test_never_acknowledged_and_still_open_past_the_target_is_missed() -> None:
    m = figures("declared", [], now_min=90)
    assert m.time_to_acknowledge.elapsed is None
    assert m.time_to_acknowledge.verdict is Verdict.MISSED
    assert m.time_to_resolve.verdict is Verdict.MISSED
    assert m.is_open and m.duration == timedelta(minutes=90)


def test_never_acknowledged_within_the_target_is_pending() -> None:
    m = figures("declared", [], now_min=20)
    assert m.time_to_acknowledge.verdict is Verdict.PENDING
    assert m.time_to_resolve.verdict is Verdict.PENDING
    assert m.time_to_resolve.note == "open"


def test_resolved_without_acknowledgement_is_never_met() -> None:
    quick = figures("resolved", [Moment(at(30), "resolved", "U1")], resolved_at=at(30))
    assert quick.time_to_acknowledge.elapsed is None
    assert quick.time_to_acknowledge.verdict is Verdict.NOT_APPLICABLE  # nobody acknowledged: no ✅
    assert quick.time_to_acknowledge.note == "resolved_unacknowledged"
    # never marked mitigated: the impact ended at the resolve
    assert quick.time_to_mitigate.elapsed == timedelta(minutes=30)
    assert quick.time_to_mitigate.note == "at_resolve"
    slow = figures("resolved", [Moment(at(200), "resolved", "U1")], resolved_at=at(200))
    assert slow.time_to_acknowledge.verdict is Verdict.MISSED


def test_mitigating_counts_as_acknowledging() -> None:
    # service.mitigate sets acknowledged_at without an "acknowledged" event
    m = figures("mitigated", [Moment(at(12), "mitigated", "U1")], acknowledged_at=at(12), mitigated_at=at(12))
    assert m.time_to_acknowledge.elapsed == timedelta(minutes=12)
    assert m.milestones.acknowledged_by == "U1"


def test_reopened_incident_measures_to_the_final_resolve_and_sums_open_time() -> None:
    moments = [
        Moment(at(10), "acknowledged", "U1"),
        Moment(at(30), "mitigated", "U1"),
        Moment(at(60), "resolved", "U1"),
        Moment(at(180), "reopened", "U2"),
        Moment(at(200), "mitigated", "U2"),  # the row's mitigated_at moves here; the first one counts
        Moment(at(210), "resolved", "U2"),
    ]
    m = figures("resolved", moments, acknowledged_at=at(10), mitigated_at=at(200), resolved_at=at(210))
    assert m.milestones.reopened == 1
    assert m.milestones.first_resolved == at(60)
    assert m.time_to_mitigate.elapsed == timedelta(minutes=30)
    assert m.time_to_resolve.elapsed == timedelta(minutes=210)
    assert m.duration == timedelta(minutes=210)
    assert m.open_time == timedelta(minutes=60 + 30)  # 2h resolved in between do not count


def test_reopened_and_open_again_runs_to_now() -> None:
    moments = [Moment(at(20), "resolved", "U1"), Moment(at(40), "reopened", "U1")]
    # reopen marks a never-acknowledged incident acknowledged at the reopen; that is no quick ack
    m = figures("acknowledged", moments, acknowledged_at=at(40), acknowledged_by="U1", now_min=100)
    assert m.is_open
    assert m.milestones.resolved is None
    assert m.time_to_acknowledge.elapsed is None
    assert (
        m.time_to_acknowledge.verdict is Verdict.NOT_APPLICABLE
    )  # never acknowledged: no ✅, though resolved in time
    assert m.open_time == timedelta(minutes=20 + 60)


def test_clock_skew_never_gives_negative_durations() -> None:
    m = figures("acknowledged", [Moment(at(-1), "acknowledged", "U1")], acknowledged_at=at(-1))
    assert m.time_to_acknowledge.elapsed == timedelta(0)


def test_review_reminder_slots_stay_on_the_daily_cadence() -> None:
    day = timedelta(days=1)
    due = at(0)
    assert next_slot(due, day, at(-5)) == due
    assert next_slot(due, day, due) == due + day
    assert next_slot(due, day, due + 3 * day + HOUR) == due + 4 * day  # down for days: one, not four
