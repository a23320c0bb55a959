"""`response_steps` and `status_reminders` as SPEC §11 writes them; rows from before the clock migrated."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.config.loader import PolicyError, load_policy_text
from bot.config.policy import Policy
from bot.db.engine import create_db_engine, migrate

SPEC_TEXT = """
response_steps:                # budgets count from the declaration; null = no clock
  confirm: {budget: 2m}        # 故障确认
  start: {budget: 5m}          # 启动应急 (2 + 3 min)
  stop_loss: {budget: 15m}     # 快速止损 (+10 min)
  root_cause: {budget: null}
  verify: {budget: 45m}        # 修复验证 (+30 min)
  review: {budget: 3d}         # 故障总结
status_reminders: {p0: 15m, p1: 30m, p2: 2h, p3: null}   # nudge the commander when no status update
"""


def test_the_spec_text_is_the_default() -> None:
    written = load_policy_text(SPEC_TEXT)
    assert written.response_steps == Policy().response_steps
    assert written.status_reminders == Policy().status_reminders
    steps = Policy().response_steps
    assert [steps.budget(k) for k in ("confirm", "start", "stop_loss", "root_cause", "verify", "review")] == [
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=15),
        None,
        timedelta(minutes=45),
        timedelta(days=3),
    ]
    reminders = Policy().status_reminders
    assert [reminders.interval(s) for s in ("p0", "p1", "p2", "p3")] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=2),
        None,
    ]


def test_one_step_changed_keeps_the_others() -> None:
    policy = load_policy_text("response_steps: {stop_loss: {budget: 30m}}\nstatus_reminders: {p3: 1d}\n")
    assert policy.response_steps.budget("stop_loss") == timedelta(minutes=30)
    assert policy.response_steps.budget("confirm") == timedelta(minutes=2)
    assert policy.status_reminders.interval("p3") == timedelta(days=1)
    assert policy.status_reminders.interval("p1") == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("response_steps: {confirm: {budget: 0s}}", "response_steps.confirm.budget", "longer than 0s"),
        ("response_steps: {confirm: {budget: -2m}}", "response_steps.confirm.budget", "invalid duration"),
        ("response_steps: {confirm: {budget: -120}}", "response_steps.confirm.budget", "cannot be negative"),
        ("response_steps: {stop_the_loss: {budget: 10m}}", "response_steps.stop_the_loss", "unknown key"),
        ("response_steps: {verify: {}}", "response_steps.verify.budget", "required"),
        ("status_reminders: {p1: 0m}", "status_reminders.p1", "longer than 0s"),
        ("status_reminders: {p4: 1h}", "status_reminders.p4", "unknown key"),
    ],
)
def test_bad_values_are_refused_with_where_and_what(text: str, where: str, says: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text)
    message = str(caught.value)
    assert where in message and says in message.lower(), message


# The checklist texts before the response clock (bot/incidents/checklist.py at revision 0007).
OLD_TEXTS = (
    "Confirm the incident (2 min) — verify the alert, confirm user reports, assess impact · 故障确认",
    "Start the response (3 min) — notify people, open the war room, start the record · 启动应急",
    "Stop the loss (10 min) — degrade, switch traffic, roll back · 快速止损",
    "Find the root cause — logs, code review, infrastructure checks · 根因分析",
    "Fix and verify (30 min) — deploy the fix, test, confirm on monitoring · 修复验证",
    "Review within 3 days — root cause report, improvements, prevention · 故障总结",
)


def test_checklist_rows_from_before_the_clock_get_their_step(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0007")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO incidents (id, title, severity, status, reporter_id, declared_at, response_due_at,"
            " policy_snapshot, setup_errors, updated_at) VALUES (1, 'Old', 'p1', 'resolved', 'U1',"
            " '2026-11-01 10:00:00', '2026-11-01 11:00:00', '{}', '[]', '2026-11-01 10:00:00'),"
            " (2, 'Key leak', 'p1', 'resolved', 'U1',"
            " '2026-11-02 10:00:00', '2026-11-02 11:00:00', '{}', '[]', '2026-11-02 10:00:00')"
        )
        for position, text in enumerate(OLD_TEXTS):
            connection.exec_driver_sql(
                "INSERT INTO checklist_items (incident_id, position, text) VALUES (1, ?, ?)", (position, text)
            )
        # A security incident's checklist (revision 0007) is not the response steps: no step.
        connection.exec_driver_sql(
            "INSERT INTO checklist_items (incident_id, position, text) VALUES (2, 0, 'Rotate the key at once')"
        )
    migrate(engine)
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT incident_id, position, step FROM checklist_items ORDER BY incident_id, position")
        )
        assert [tuple(row) for row in rows] == [
            (1, 0, "confirm"),
            (1, 1, "start"),
            (1, 2, "stop_loss"),
            (1, 3, "root_cause"),
            (1, 4, "verify"),
            (1, 5, "review"),
            (2, 0, None),
        ]
    engine.dispose()
