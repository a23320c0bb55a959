"""The draft as a reader sees it: golden files of a realistic incident in English and Chinese,
Markdown safety of what people typed, and that 10,000 events all reach the draft.

Regenerate the golden files after an intended template change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/postmortem/test_render.py` and review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.config.policy import Policy
from bot.db.engine import create_db_engine, make_session_factory
from bot.incidents import service as incidents
from bot.postmortem import reminders
from bot.postmortem import service as pm
from bot.postmortem.content import EventRow, collect
from bot.postmortem.render import cell, code, from_slack, md, render
from tests.postmortem.helpers import LEAD, ONCALL, at, declare, realistic

GOLDEN = Path(__file__).with_name("golden")


@pytest.fixture
def session(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine = create_db_engine(sqlite_url)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; UPDATE_GOLDEN=1 if intended"


def _draft(session: Session, language: str) -> str:
    policy = Policy(language=language)
    incident = realistic(session, policy)
    reminders.start(session, incident, policy, at(150))  # what the resolve hook does
    return pm.create_draft(session, incident, ONCALL, at(151)).body


@pytest.mark.parametrize("language", ["en", "zh"])
def test_golden_realistic_incident(session: Session, language: str) -> None:
    body = _draft(session, language)
    _golden(f"realistic.{language}.md", body)


def test_english_draft_holds_what_the_issue_asks_for(session: Session) -> None:
    body = _draft(session, "en")
    for text in (
        "# INC-1 postmortem: Checkout returns 502",
        "| Severity | P1 — 严重 major (respond within 1h) |",
        "| Status | Resolved |",
        "| Commander | @U01ONCALL |",
        "| Duration | 2h 30m (declared → resolved) |",
        "| Acknowledged | 2026-01-05 09:04 UTC | 4m | @U01ONCALL |",
        "| Time to acknowledge | 4m | 1h | ✅ met |",
        "| Time to mitigate | 1h 20m | 1h | ❌ missed |",
        "| Time to resolve | 2h 30m | 1h | ❌ missed |",
        "- **2026-01-05 09:08 UTC** @U02SCRIBE: Checkout fails for ~30% of users with 502",
        "  - ❌ Connections 485/500 (97% of max_connections) — fix: Raise max_connections",
        "| 1 | Alert when DB connections reach 80% of max_connections | @U02SCRIBE | open |",
        "> Review due by 2026-01-08 11:30 UTC.",
        "## Root cause (5 whys)",
        "## Improvements",
        "## Prevention",
        "## Lessons learned",
    ):
        assert text in body
    # every timeline entry, in order
    positions = [
        body.index(f"**{label}**") for label in ("Declared", "Page", "Acknowledged", "Mitigated", "Resolved")
    ]
    assert positions == sorted(positions)
    assert body.count("\n- `2026-01-05 ") >= 17


def test_chinese_draft_has_chinese_headings(session: Session) -> None:
    body = _draft(session, "zh")
    for heading in (
        "# INC-1 故障复盘",
        "## 概要",
        "## 关键时间 (UTC)",
        "## 时间线 (UTC)",
        "## 根因报告（5 个为什么）",
        "## 改进措施",
        "## 预防方案",
        "## 经验教训",
        "| 确认用时 | 4m | 1h | ✅ 达标 |",
    ):
        assert heading in body
    assert "## Summary" not in body


def test_reopened_and_never_acknowledged_incident_reads_right(session: Session) -> None:
    policy = Policy()
    inc = declare(session, policy, severity="p0")
    incidents.resolve(session, inc, ONCALL, at(10))
    incidents.reopen(session, inc, LEAD, at(40))
    incidents.resolve(session, inc, LEAD, at(70))
    body = pm.create_draft(session, inc, LEAD, at(71)).body
    assert "| Acknowledged | not acknowledged | — |  |" in body
    # Resolved within 15 min, but nobody acknowledged: no ✅ for acknowledging.
    assert "| Time to acknowledge | — | 15m | — |" in body
    assert "Nobody acknowledged: the pages went unanswered until the resolve 10m after declaring." in body
    assert "| First resolved | 2026-01-05 09:10 UTC | 10m | |" in body
    assert "| Resolved | 2026-01-05 10:10 UTC | 1h 10m | @U04LEAD |" in body
    assert "| Reopened | 1 time; open for 40m in total |" in body


def test_open_incident_shows_pending_figures(session: Session) -> None:
    inc = declare(session, Policy(), severity="p2")
    body = pm.create_draft(session, inc, ONCALL, at(30)).body
    assert "| Time to acknowledge | not yet | 4h | ⏳ pending |" in body
    assert "| Duration | 30m (declared → now; still open) |" in body
    assert "Still open when this draft was made" in body


def test_slack_markup_becomes_markdown() -> None:
    assert from_slack("ask <@U01ABC> in <#C01|ops> see <https://x.io/a|the PR> &lt;b&gt; &amp;") == (
        "ask @U01ABC in #ops see [the PR](https://x.io/a) <b> &"
    )
    assert from_slack("<!here> <!subteam^S01|@sre> <https://x.io>") == "@here @sre https://x.io"


def test_user_text_cannot_break_tables_or_the_document() -> None:
    assert cell("a | b\nc") == r"a \| b<br>c"
    assert md("returned <html> page") == r"returned \<html> page"
    assert md("keep `<div>` as code") == "keep `<div>` as code"
    # an unclosed fence is closed, so the rest of the draft stays Markdown
    assert md("log:\n```\nERROR x", indent=2).endswith("```")
    assert md("line one\nline two", indent=2) == "line one  \n  line two"
    assert code("run `x`") == "`` run `x` ``"


def test_pipes_in_user_text_stay_inside_their_cell(session: Session) -> None:
    inc = declare(session, Policy(), title="Orders | payments down")
    pm.add_action(session, inc, "Fix a | b split", None, ONCALL, at(5))
    body = pm.create_draft(session, inc, ONCALL, at(6)).body
    assert r"| Title | Orders \| payments down |" in body
    assert r"| 1 | Fix a \| b split | unassigned | open |" in body


def _synthetic(session: Session, count: int):  # type: ignore[no-untyped-def]
    inc = declare(session, Policy())
    content = collect(session, inc, at(600))
    kinds = ["note", "status_update", "pin", "page", "diagnostic", "reaction", "remediation"]
    events = tuple(
        EventRow(
            at=at(n / 20),
            actor=f"U{n % 7:02d}USER",
            kind=kinds[n % len(kinds)],
            text=f"Entry {n}: checked <https://grafana/d/{n}|dashboard> | p99 {n % 900} ms",
            command="/diag k8s pods" if n % 7 == 4 else None,
            outcome="warn" if n % 7 == 4 else None,
        )
        for n in range(count)
    )
    return replace(content, events=events)


def test_ten_thousand_events_all_reach_the_draft(session: Session) -> None:
    # How fast is bench/postmortem_render.py's business; here: nothing is dropped or truncated.
    content = _synthetic(session, 10_000)
    body = render(content, language="en")
    assert body.count("\n- `2026-01-05 ") >= 10_000


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="en or zh"):
        render(None, language="fr")  # type: ignore[arg-type]


def test_generated_time_moves_nothing_but_the_header(session: Session) -> None:
    inc = realistic(session)
    first = pm.create_draft(session, inc, ONCALL, at(151)).body
    second = pm.create_draft(session, inc, ONCALL, at(151) + timedelta(days=1)).body
    changed = [(a, b) for a, b in zip(first.splitlines(), second.splitlines(), strict=True) if a != b]
    assert [a for a, _ in changed] == [
        "> Draft v1, generated by Warroom on 2026-01-05 11:31 UTC from the incident timeline."
    ]
