"""The `/diag` flow: parse → run → audit → timeline. Slack-free, so the console and tests use it too.

Every run, anywhere, is written to the audit log (who, where, what, when, outcome), as the guide
demands a complete audit record; a run inside an incident channel also goes on that incident's
timeline with its key findings, so the postmortem can list the diagnostics that were run.
Usage errors are not runs: they change nothing and are only answered.
"""

from __future__ import annotations

from typing import Any

from bot import metrics
from bot.audit.service import record
from bot.config.policy import Policy
from bot.diagnostics import runner, triage
from bot.diagnostics.base import CheckResult, Finding, Level
from bot.diagnostics.grammar import Command, parse
from bot.incidents.service import by_channel
from bot.incidents.timeline import EventKind, add_event
from bot.runtime import Runtime

Result = CheckResult | triage.TriageResult
KEY_FINDINGS = 5

__all__ = ["Command", "Result", "execute", "key_findings", "parse", "run", "save", "summary"]


def run(policy: Policy, command: Command) -> Result:
    """Run a parsed command (check or triage). Raises UsageError only for input the engine rejects late."""
    if command.kind == "triage":
        assert command.service is not None
        return triage.run(policy, command.service)
    if command.kind != "check" or command.adapter is None or command.check is None:
        raise ValueError(f"not a runnable command: {command.kind}")
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options
    )


def key_findings(findings: list[Finding]) -> list[Finding]:
    """What deserves the timeline: the problems, or, when all is well, the first line of good news."""
    problems = sorted((f for f in findings if f.level is not Level.OK), key=lambda f: -f.level.rank)
    return problems[:KEY_FINDINGS] if problems else findings[:2]


def summary(result: Result) -> str:
    """One line: the command, its outcome and its key findings."""
    shown = "; ".join(f"{f.level.icon} {f.message}" for f in key_findings(result.findings))
    return f"/diag {result.command} → {result.outcome}" + (f": {shown}" if shown else "")


def _finding_data(finding: Finding) -> dict[str, Any]:
    return {"level": str(finding.level), "message": finding.message, "fix": finding.fix}


def execute(runtime: Runtime, command: Command, *, actor: str, channel_id: str | None) -> Result:
    """Run, then record the run in the audit log and (inside an incident channel) on the timeline."""
    result = run(runtime.policy, command)
    save(runtime, result, actor=actor, channel_id=channel_id)
    return result


def save(runtime: Runtime, result: Result, *, actor: str, channel_id: str | None) -> int | None:
    """Write the audit entry and the timeline event; returns the incident id when in an incident channel."""
    metrics.observe_diag(getattr(result, "adapter", "triage"), result.outcome)  # every run is saved once
    data = {
        "command": result.command,
        "outcome": str(result.outcome),
        "findings": [_finding_data(f) for f in result.findings],
    }
    detail = "\n".join(
        f"{f.level.icon} {f.message}" + (f" — {f.fix}" if f.fix else "") for f in result.findings
    )
    with runtime.session() as session:
        incident = by_channel(session, channel_id) if channel_id else None
        incident_id = incident.id if incident is not None else None
        record(
            session,
            actor=actor,
            action="diag",
            target=result.command,
            outcome=str(result.outcome),
            channel_id=channel_id,
            incident_id=incident_id,
            detail=detail,
            elapsed_ms=result.elapsed_ms,
            data=data,
        )
        if incident_id is not None:
            timeline_data = {**data, "findings": [_finding_data(f) for f in key_findings(result.findings)]}
            add_event(session, incident_id, EventKind.DIAGNOSTIC, actor, summary(result), data=timeline_data)
    return incident_id
