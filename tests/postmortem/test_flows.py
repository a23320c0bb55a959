"""Drafting flows on the database: versions, the resolve and reopen hooks, a failed upload."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.incidents import timeline
from bot.incidents.models import Incident
from bot.postmortem import flows
from bot.postmortem import service as pm
from bot.postmortem.models import PostmortemDraft, ReviewReminder
from bot.runtime import Runtime
from tests.postmortem.helpers import ONCALL, FakePorts, at, make_runtime, realistic


def _incident(runtime: Runtime, *, resolve: bool = True, policy: Policy | None = None) -> int:
    with runtime.session() as session:
        return realistic(session, policy, resolve=resolve).id


def test_publish_uploads_the_draft_with_a_summary_and_records_it(runtime: Runtime, ports: FakePorts) -> None:
    incident_id = _incident(runtime)
    runtime.clock.set(at(151))  # type: ignore[attr-defined]
    result = flows.publish(runtime, incident_id, ONCALL)

    assert result.uploaded and result.version == 1
    [upload] = ports.uploads
    assert upload["channel"] == "C0INC0001"
    assert upload["filename"] == f"inc-{incident_id}-postmortem-v1.md"
    assert upload["title"] == f"INC-{incident_id} postmortem draft v1 — Checkout returns 502"
    assert upload["content"].startswith(f"# INC-{incident_id} postmortem: Checkout returns 502")
    comment = upload["comment"]
    assert "*Postmortem draft v1*" in comment and "P1 严重 major · Resolved · lasted 2h 30m" in comment
    assert "acknowledged in 4m ✅ · mitigated in 1h 20m ❌ · resolved in 2h 30m ❌ (target 1h)" in comment
    with runtime.session() as session:
        draft = pm.latest_draft(session, incident_id)
        assert draft is not None and draft.file_id == "F00000001" and draft.body == upload["content"]
        last = timeline.events(session, incident_id)[-1]
        assert (last.kind, last.text) == ("postmortem", "Postmortem draft v1 uploaded")


def test_each_draft_is_a_new_version_and_sees_the_previous_one(runtime: Runtime, ports: FakePorts) -> None:
    incident_id = _incident(runtime)
    flows.publish(runtime, incident_id, ONCALL)
    second = flows.publish(runtime, incident_id, ONCALL, language="zh")
    assert second.version == 2 and second.language == "zh"
    # the zh draft tells Warroom's own timeline rows in Chinese, whatever language they were stored in
    assert "故障复盘草稿 v1 已上传" in ports.uploads[1]["content"]
    assert "Postmortem draft v1 uploaded" not in ports.uploads[1]["content"]
    assert ports.uploads[1]["content"].startswith(f"# INC-{incident_id} 故障复盘")
    with runtime.session() as session:
        assert [(d.version, d.language) for d in pm.drafts(session, incident_id)] == [(1, "en"), (2, "zh")]


def test_a_failed_upload_keeps_the_draft_and_says_so(runtime: Runtime, ports: FakePorts) -> None:
    incident_id = _incident(runtime)
    runtime.clock.set(at(151))  # type: ignore[attr-defined]
    ports.fail_upload = "ratelimited"
    result = flows.publish(runtime, incident_id, ONCALL)
    assert not result.uploaded and result.error == "ratelimited"
    with runtime.session() as session:
        draft = pm.latest_draft(session, incident_id)
        assert draft is not None and draft.file_id is None
        assert timeline.events(session, incident_id)[-1].text == (
            "Postmortem draft v1 stored; the upload failed (ratelimited)"
        )


def test_on_resolved_starts_the_review_timer_and_uploads(runtime: Runtime, ports: FakePorts) -> None:
    incident_id = _incident(runtime)
    runtime.clock.set(at(150))  # type: ignore[attr-defined]
    flows.on_resolved(runtime, incident_id, ONCALL)
    with runtime.session() as session:
        row = session.get(ReviewReminder, incident_id)
        assert row is not None and row.due_at == at(150) + timedelta(days=3) and row.next_at == row.due_at
    assert len(ports.uploads) == 1
    assert "Review due by 2026-01-08 11:30 UTC." in ports.uploads[0]["content"]
    assert "review due 2026-01-08 11:30 UTC, then `/incident review done`" in ports.uploads[0]["comment"]


def test_on_resolved_failure_is_told_in_the_channel_and_never_raises(
    runtime: Runtime, ports: FakePorts
) -> None:
    incident_id = _incident(runtime)
    ports.fail_upload = "internal_error"
    flows.on_resolved(runtime, incident_id, ONCALL)
    [(channel, text)] = ports.notices
    assert channel == "C0INC0001" and "upload failed (internal_error)" in text
    assert f"warroom postmortem {incident_id}" in text


def test_on_resolve_false_in_the_policy_only_starts_the_timer(sqlite_url: str) -> None:
    policy = Policy.model_validate({"postmortem": {"on_resolve": False, "review_within": "1d"}})
    ports = FakePorts()
    runtime = make_runtime(sqlite_url, ports=ports, clock=ManualClock(at(150)))
    incident_id = _incident(runtime, policy=policy)
    flows.on_resolved(runtime, incident_id, ONCALL)
    assert ports.uploads == []
    with runtime.session() as session:
        row = session.get(ReviewReminder, incident_id)
        assert row is not None and row.due_at == at(150) + timedelta(days=1)


def test_on_reopened_clears_the_review_timer(runtime: Runtime) -> None:
    incident_id = _incident(runtime)
    flows.on_resolved(runtime, incident_id, ONCALL)
    flows.on_reopened(runtime, incident_id, ONCALL)
    with runtime.session() as session:
        assert session.get(ReviewReminder, incident_id) is None


@pytest.mark.parametrize("backend", ["sqlite_url", "pg_url"])
def test_concurrent_drafts_get_distinct_versions(request: pytest.FixtureRequest, backend: str) -> None:
    url = request.getfixturevalue(backend)
    ports = FakePorts()
    runtime = make_runtime(url, ports=ports)
    incident_id = _incident(runtime)
    errors: list[BaseException] = []

    def draft() -> None:
        try:
            flows.publish(runtime, incident_id, ONCALL)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=draft) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with runtime.session() as session:
        versions = sorted(
            d.version for d in session.query(PostmortemDraft).filter_by(incident_id=incident_id)
        )
        assert versions == [1, 2, 3, 4]
        assert session.get(Incident, incident_id) is not None
    runtime.engine.dispose()
