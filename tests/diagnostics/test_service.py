"""The `/diag` flow's records: every run in the audit log; runs in an incident channel on its timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import build_runtime
from bot.audit.models import AuditEntry
from bot.audit.record import record_diagnostic
from bot.config.settings import Settings
from bot.diagnostics import flows
from bot.incidents import service as incidents
from bot.incidents.models import TimelineEvent
from bot.runtime import Runtime
from tests.diagnostics.conftest import make_policy


def _execute(runtime: Runtime, command: flows.Command, *, actor: str, channel_id: str) -> flows.Result:
    result = flows.run(runtime.policy, command)
    record_diagnostic(runtime, result, actor=actor, channel_id=channel_id)
    return result


def _incident_channel(runtime: Runtime, channel_id: str) -> int:
    with runtime.session() as session:
        incident, _ = incidents.declare(
            session,
            runtime.policy,
            severity="p1",
            title="Checkout returns 502",
            reporter_id="U0ALICE",
            origin_channel_id="C_GENERAL",
            now=datetime.now(UTC),
        )
        incident.channel_id = channel_id
        return incident.id


def test_every_run_is_audited(runtime: Runtime) -> None:
    command = flows.parse(runtime.policy, "mysql orders")
    result = _execute(runtime, command, actor="U0ALICE", channel_id="C_GENERAL")
    with runtime.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.channel_id, entry.incident_id) == (
            "U0ALICE",
            "diag",
            "C_GENERAL",
            None,
        )
        assert entry.target == "mysql orders connections"
        assert entry.outcome == str(result.outcome)
        assert "of max_connections" in entry.detail
        assert entry.elapsed_ms is not None and entry.at is not None
        assert entry.data["findings"][0]["message"].startswith("Connections ")
        assert session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "diagnostic")).all() == []


def test_refusals_are_audited_too(runtime: Runtime) -> None:
    command = flows.parse(runtime.policy, "http http://169.254.169.254/latest/meta-data/")
    _execute(runtime, command, actor="U0BOB", channel_id="D0BOB")
    with runtime.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.outcome == "refused" and entry.actor == "U0BOB"
        assert "link-local / cloud metadata" in entry.detail


def test_runs_in_an_incident_channel_go_on_the_timeline(db_url: str, http_server: str) -> None:
    runtime = build_runtime(Settings(database_url=db_url, slack_bot_token="xoxb-test"), make_policy())
    try:
        incident_id = _incident_channel(runtime, "C_INC1")
        command = flows.parse(runtime.policy, f"http {http_server}/down")
        _execute(runtime, command, actor="U0ALICE", channel_id="C_INC1")
        with runtime.session() as session:
            event = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "diagnostic")).one()
            assert event.incident_id == incident_id and event.actor == "U0ALICE"
            assert event.text.startswith(f"/diag http get {http_server}/down → crit: ❌ HTTP 502 Bad Gateway")
            assert event.data["command"] == f"http get {http_server}/down"
            assert event.data["outcome"] == "crit"
            assert event.data["findings"][0] == {
                "level": "crit",
                "message": "HTTP 502 Bad Gateway",
                "fix": "Check the application service, restart it (检查应用服务状态，重启服务)",
            }
            entry = session.scalars(select(AuditEntry)).one()
            assert entry.incident_id == incident_id
    finally:
        runtime.engine.dispose()


def test_key_findings_prefer_problems() -> None:
    from bot.diagnostics.base import Finding, Level

    findings = [Finding(Level.OK, "fine"), Finding(Level.WARN, "hmm"), Finding(Level.CRIT, "bad")]
    assert [f.message for f in flows.key_findings(findings)] == ["bad", "hmm"]
    assert [f.message for f in flows.key_findings(findings[:1])] == ["fine"]
