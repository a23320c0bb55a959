"""The six response steps (应急响应步骤): keys, the checklist's labels and their short names.

Labels are catalog messages, translated where they are shown; rows store the step key.
"""

from __future__ import annotations

from bot.config.response import STEP_KEYS
from bot.i18n import N_

# What the checklist shows for each step (translated at render with `_()`).
LABELS: dict[str, str] = {
    "confirm": N_("Confirm the incident — verify the alert, confirm user reports, assess impact"),
    "start": N_("Start the response — notify people, open the war room, start the record"),
    "stop_loss": N_("Stop the loss — degrade, switch traffic, roll back"),
    "root_cause": N_("Find the root cause — logs, code review, infrastructure checks"),
    "verify": N_("Fix and verify — deploy the fix, test, confirm on monitoring"),
    "review": N_("Review — root cause report, improvements, prevention"),
}

# How a nudge, the timeline and the postmortem name a step.
NAMES: dict[str, str] = {
    "confirm": N_("Confirm the incident"),
    "start": N_("Start the response"),
    "stop_loss": N_("Stop the loss"),
    "root_cause": N_("Find the root cause"),
    "verify": N_("Fix and verify"),
    "review": N_("Review"),
}

# Steps that still matter after the resolve: the review follows it. The others stop nudging then.
AFTER_RESOLVE = frozenset({"review"})

__all__ = ["AFTER_RESOLVE", "LABELS", "NAMES", "STEP_KEYS"]
