"""Reports from seeded incidents on SQLite and PostgreSQL, through the real `warroom report` CLI; every
figure below was computed by hand from the seed (nearest-rank median and p90), and drills are seeded to
prove they never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config.policy import Policy
from bot.db.engine import create_db_engine, make_session_factory
from bot.incidents.models import Incident
from bot.postmortem.models import ActionItem, ReviewReminder
from bot.reports import figures
from bot.reports.figures import nearest_rank

SINCE = datetime(2026, 11, 26, tzinfo=UTC)
UNTIL = datetime(2026, 12, 3, tzinfo=UTC)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def _incident(
    session: Session,
    severity: str,
    declared: datetime,
    ack: int | None = None,
    mitigate: int | None = None,
    resolve: int | None = None,
    drill: bool = False,
    channel: str | None = None,
) -> Incident:
    incident = Incident(
        title=f"{severity} at {declared:%d %H:%M}",
        severity=severity,
        status="resolved" if resolve is not None else ("acknowledged" if ack is not None else "declared"),
        reporter_id="U0REPORTER",
        commander_id="U0LEAD" if ack is not None else None,
        channel_id=channel,
        declared_at=declared,
        acknowledged_at=declared + ack * M if ack is not None else None,
        mitigated_at=declared + mitigate * M if mitigate is not None else None,
        resolved_at=declared + resolve * M if resolve is not None else None,
        response_due_at=declared + Policy().severity(severity).response,
        policy_snapshot={},
        is_drill=drill,
    )
    session.add(incident)
    session.flush()
    return incident


def seed(url: str) -> None:
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        day = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        # P1, target 1h. ack 2, 5, 10, 30, 90 min; mitigated 20, 40, 60; resolved 60, 120, 180, 240.
        p1 = [
            _incident(session, "p1", day, ack=2, mitigate=20, resolve=60, channel="C0P1A"),
            _incident(session, "p1", day + timedelta(hours=1), ack=5, mitigate=40, resolve=120),
            _incident(session, "p1", day + timedelta(hours=2), ack=10, mitigate=60, resolve=180),
            _incident(session, "p1", day + timedelta(hours=3), ack=30, resolve=240),
            _incident(session, "p1", day + timedelta(hours=4), ack=90, channel="C0LATE"),
        ]
        # P0, target 15m: one acked in 10 min and resolved in 45; one never acknowledged.
        _incident(session, "p0", day, ack=10, mitigate=30, resolve=45)
        never = _incident(session, "p0", datetime(2026, 12, 1, 8, 0, tzinfo=UTC), channel="C0NEVER")
        # Not counted: a drill (late, overdue review, open item) and a P1 before the window.
        drill = _incident(session, "p0", day, ack=60, resolve=120, drill=True, channel="C0DRILL")
        _incident(session, "p1", datetime(2026, 11, 20, tzinfo=UTC), ack=300, resolve=600)
        # Reviews: P1 #1 overdue; P1 #2 done; P1 #3 not due yet; the drill's overdue one is ignored.
        session.add_all(
            [
                ReviewReminder(incident_id=p1[0].id, due_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC)),
                ReviewReminder(
                    incident_id=p1[1].id, due_at=datetime(2026, 11, 30, tzinfo=UTC), done_at=NOW - M
                ),
                ReviewReminder(incident_id=p1[2].id, due_at=datetime(2027, 1, 1, tzinfo=UTC)),
                ReviewReminder(incident_id=drill.id, due_at=datetime(2026, 11, 29, tzinfo=UTC)),
            ]
        )
        session.add_all(
            [
                ActionItem(
                    incident_id=p1[0].id, text="alert on 5xx", owner_id="U0ALICE", created_by="U0LEAD"
                ),
                ActionItem(incident_id=p1[1].id, text="runbook", owner_id="U0ALICE", created_by="U0LEAD"),
                ActionItem(
                    incident_id=p1[1].id, text="done", owner_id="U0ALICE", created_by="U0LEAD", done_at=NOW
                ),
                ActionItem(incident_id=never.id, text="pool size", owner_id=None, created_by="U0LEAD"),
                ActionItem(incident_id=drill.id, text="drill item", owner_id="U0BOB", created_by="U0LEAD"),
            ]
        )
    engine.dispose()


def test_nearest_rank_by_hand() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7.0], 0.9) == 7.0
    assert nearest_rank([90, 2, 30, 5, 10], 0.5) == 10  # 3rd of 5
    assert nearest_rank([90, 2, 30, 5, 10], 0.9) == 90  # ceil(4.5) = 5th
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0  # 9th of 10


def test_figures_by_hand(db_url: str) -> None:
    seed(db_url)
    engine = create_db_engine(db_url)
    with make_session_factory(engine)() as session:
        report = figures.build(session, Policy(), SINCE, UNTIL, NOW)
    engine.dispose()
    p0, p1, p2, _p3 = report.severities
    assert (p0.incidents, p1.incidents, p2.incidents, report.total) == (2, 5, 0, 7)
    assert (p1.steps["acknowledge"].median, p1.steps["acknowledge"].p90) == (600, 5400)  # 10m, 90m
    assert (p1.steps["mitigate"].count, p1.steps["mitigate"].median, p1.steps["mitigate"].p90) == (
        3,
        2400,
        3600,
    )
    assert (p1.steps["resolve"].median, p1.steps["resolve"].p90) == (7200, 14400)  # 2h, 4h
    assert p1.within_target == 4 and p0.within_target == 1
    assert (p0.steps["acknowledge"].count, p0.steps["acknowledge"].median) == (1, 600)
    assert [(m.severity, m.acknowledged_after, m.channel_id) for m in report.missed] == [
        ("p0", None, "C0NEVER"),
        ("p1", 5400, "C0LATE"),
    ]
    assert [r.due_at for r in report.overdue_reviews] == [datetime(2026, 11, 30, 10, 0, tzinfo=UTC)]
    assert report.action_items == {"": 1, "U0ALICE": 2}


def test_warroom_report_cli_md_csv_and_chart(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(db_url)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    chart = tmp_path / "report.png"
    args = ["report", "--since", "2026-11-26", "--until", "2026-12-03"]
    assert main([*args, "--format", "md", "--chart", str(chart)]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Incident report 2026-11-26 00:00 → 2026-12-03 00:00 (UTC)\n")
    assert "7 incident(s) declared; drills are not counted." in md
    assert "| P1 严重 major | 5 | 1h | 4/5 | 10m / 1h 30m | 40m / 1h | 2h / 4h |" in md
    assert "| P0 紧急 critical | 2 | 15m | 1/2 | 10m / 10m | 30m / 30m | 45m / 45m |" in md
    assert "| P2 中等 moderate | 0 | 4h | — | — / — | — / — | — / — |" in md
    assert "— never acknowledged (target 15m) https://slack.com/app_redirect?channel=C0NEVER" in md
    assert "— acknowledged after 1h 30m (target 1h) https://slack.com/app_redirect?channel=C0LATE" in md
    assert (
        "review due 2026-11-30 10:00 UTC, commander U0LEAD https://slack.com/app_redirect?channel=C0P1A" in md
    )
    assert "- U0ALICE: 2\n" in md and "- (no owner): 1\n" in md
    assert "C0DRILL" not in md and "U0BOB" not in md
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main([*args, "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("severity,incidents,ack_target_s,acked_within_target,missed,acknowledge_count")
    assert rows[1] == "p0,2,900,1,1,1,600,600,1,1800,1800,1,2700,2700"
    assert rows[2] == "p1,5,3600,4,1,5,600,5400,3,2400,3600,4,7200,14400"
    assert rows[3] == "p2,0,14400,0,0,0,,,0,,,0,,"

    assert main(["report", "--since", "last tuesday"]) == 2
    assert "Cannot read 'last tuesday' as a start" in capsys.readouterr().err
