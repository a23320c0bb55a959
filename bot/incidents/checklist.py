"""The guide's response steps (应急响应步骤), as the checklist posted in every war room: (key, label).

The label is a catalog message translated at render; a row stores the key (and the English label).
"""

from __future__ import annotations

from bot.response.steps import LABELS, STEP_KEYS

RESPONSE_STEPS: tuple[tuple[str, str], ...] = tuple((key, LABELS[key]) for key in STEP_KEYS)
