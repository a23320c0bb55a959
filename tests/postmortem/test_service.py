"""Action items and stored drafts on both databases."""

from __future__ import annotations

import pytest

from bot.config.policy import Policy
from bot.incidents import timeline
from bot.incidents.service import IncidentError
from bot.postmortem import service as pm
from tests.postmortem.helpers import LEAD, ONCALL, SCRIBE, at, declare, make_runtime


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "Alert on DB connections at 80% <@U02SCRIBE|scribe>",
            ("Alert on DB connections at 80%", "U02SCRIBE"),
        ),
        ("Alert on DB connections <@U02SCRIBE>", ("Alert on DB connections", "U02SCRIBE")),
        ("Alert on DB connections @U02SCRIBE", ("Alert on DB connections", "U02SCRIBE")),  # the console
        ("Ask <@U01ONCALL> about pools", ("Ask <@U01ONCALL> about pools", None)),  # only a trailing owner
        ("Load-test the pool", ("Load-test the pool", None)),
    ],
)
def test_parse_action(args: str, expected: tuple[str, str | None]) -> None:
    assert pm.parse_action(args) == expected


def test_parse_action_refuses_an_owner_without_a_task() -> None:
    with pytest.raises(IncidentError, match="Say what should be done"):
        pm.parse_action("<@U02SCRIBE>")
    with pytest.raises(IncidentError, match="keep it under 500"):
        pm.parse_action("x" * 501)


@pytest.mark.parametrize(
    ("ref", "number"), [("42", 42), ("INC-42", 42), ("inc42", 42), ("#42", None), ("", None)]
)
def test_parse_incident_ref(ref: str, number: int | None) -> None:
    assert pm.parse_incident_ref(ref) == number


def test_action_items_are_numbered_ticked_and_on_the_timeline(db_url: str) -> None:
    runtime = make_runtime(db_url)
    with runtime.session() as session:
        incident = declare(session, Policy())
        assert pm.add_action(session, incident, "Alert on pool usage", SCRIBE, ONCALL, at(1))[0] == 1
        assert pm.add_action(session, incident, "Load-test the pool", None, LEAD, at(2))[0] == 2
        pm.complete_action(session, incident, 2, LEAD, at(3))
        with pytest.raises(IncidentError, match="already done"):
            pm.complete_action(session, incident, 2, LEAD, at(4))
        with pytest.raises(IncidentError, match=r"no action item 3 .*\(1–2\)"):
            pm.complete_action(session, incident, 3, LEAD, at(4))
        texts = [e.text for e in timeline.events(session, incident.id, {"action_item"})]
        assert texts == [
            "Action item 1: Alert on pool usage (owner <@U02SCRIBE>)",
            "Action item 2: Load-test the pool",
            "Action item 2 done: Load-test the pool",
        ]
        body = pm.create_draft(session, incident, ONCALL, at(5)).body
    assert "| 1 | Alert on pool usage | @U02SCRIBE | open |" in body
    assert "| 2 | Load-test the pool | unassigned | done 2026-01-05 09:03 UTC |" in body
    runtime.engine.dispose()


def test_drafts_keep_every_version(db_url: str) -> None:
    runtime = make_runtime(db_url)
    with runtime.session() as session:
        incident = declare(session, Policy(language="zh"))
        first = pm.create_draft(session, incident, ONCALL, at(1))
        second = pm.create_draft(session, incident, ONCALL, at(2), language="en")
        assert (first.version, first.language, second.version, second.language) == (1, "zh", 2, "en")
        latest = pm.latest_draft(session, incident.id)
        assert latest is not None and latest.version == 2
        latest_zh = pm.latest_draft(session, incident.id, "zh")
        assert latest_zh is not None and latest_zh.version == 1
        with pytest.raises(IncidentError, match="use en or zh"):
            pm.create_draft(session, incident, ONCALL, at(3), language="fr")
    runtime.engine.dispose()
