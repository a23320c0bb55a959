"""The `/diag` flow: parse → run, and the one-line summary of a result. Slack-free and database-free:
recording a run is the domain's (`bot.audit.record`). Usage errors are not runs: they are only answered.
"""

from __future__ import annotations

from bot.config.policy import Policy
from bot.diagnostics import runner, triage
from bot.diagnostics.base import CheckResult, Finding, Level
from bot.diagnostics.grammar import Command, parse
from bot.i18n import _

Result = CheckResult | triage.TriageResult
KEY_FINDINGS = 5

__all__ = ["Command", "Result", "key_findings", "parse", "run", "summary"]


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
    """One line: the command, its outcome and its key findings, in the language in force (the timeline
    and the audit log keep the words people were shown)."""
    shown = "; ".join(f"{f.level.icon} {f.message}" for f in key_findings(result.findings))
    line = f"/diag {result.command} → {_(result.outcome.label)}"
    return line + (f": {shown}" if shown else "")
