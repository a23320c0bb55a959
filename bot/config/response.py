"""The guide's response clock in the policy (SPEC §11): `response_steps` budgets and `status_reminders`."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from bot.config.durations import Duration
from bot.config.strict import Strict

# The guide's six response steps, in order (应急响应步骤); the keys of `response_steps`.
STEP_KEYS = ("confirm", "start", "stop_loss", "root_cause", "verify", "review")


class StepClock(Strict):
    """One response step's clock."""

    budget: Duration | None = Field(
        description="How long after the declaration the step should be done (2m, 15m, 3d); null: no clock."
    )


def _step(budget: timedelta | None) -> StepClock:
    return StepClock(budget=budget)


class ResponseSteps(Strict):
    """Budgets of the six response steps, counted from the declaration. A step missing here keeps the guide's."""

    confirm: StepClock = Field(
        default_factory=lambda: _step(timedelta(minutes=2)), description="故障确认: confirm the incident."
    )
    start: StepClock = Field(
        default_factory=lambda: _step(timedelta(minutes=5)),
        description="启动应急: start the response (2 + 3 min).",
    )
    stop_loss: StepClock = Field(
        default_factory=lambda: _step(timedelta(minutes=15)), description="快速止损: stop the loss (+10 min)."
    )
    root_cause: StepClock = Field(
        default_factory=lambda: _step(None),
        description="根因定位: find the root cause (no clock by default).",
    )
    verify: StepClock = Field(
        default_factory=lambda: _step(timedelta(minutes=45)),
        description="修复验证: fix and verify (+30 min).",
    )
    review: StepClock = Field(
        default_factory=lambda: _step(timedelta(days=3)), description="故障总结: the review, within 3 days."
    )

    def budget(self, step: str) -> timedelta | None:
        clock: StepClock = getattr(self, step)
        return clock.budget


class StatusReminders(Strict):
    """How long without a status update (`/incident status …`) before the commander is reminded; null: never."""

    p0: Duration | None = Field(default=timedelta(minutes=15), description="P0: remind after this long.")
    p1: Duration | None = Field(default=timedelta(minutes=30), description="P1: remind after this long.")
    p2: Duration | None = Field(default=timedelta(hours=2), description="P2: remind after this long.")
    p3: Duration | None = Field(default=None, description="P3: remind after this long (null: never).")

    def interval(self, severity: str) -> timedelta | None:
        value: timedelta | None = getattr(self, severity, None)
        return value
