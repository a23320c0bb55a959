"""Block Kit of drills: the list of running drills (`/incident list drills`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import _
from bot.incidents.views import IncidentView
from bot.slack.blocks.common import MAX_BLOCKS, Block, context, header, section, sections
from bot.slack.blocks.incident import incident_line


def drill_list(drills: Sequence[IncidentView]) -> tuple[str, list[Block]]:
    """`/incident list drills`: open drills only (they never appear in `/incident list`)."""
    if not drills:
        text = _("No drill is running. Start one with `/incident drill p1 <title>`.")
        return text, [section(text)]
    lines = [incident_line(d) for d in drills]
    blocks: list[Block] = [header(_("Drills running ({n})", n=len(drills)))]
    blocks += sections(lines)
    return _("{n} drill(s) running", n=len(drills)), blocks[:MAX_BLOCKS]


def drills_hint(running: int) -> list[Block]:
    """Under `/incident list`: drills are not listed there, only pointed to."""
    if not running:
        return []
    return [context(_("🧯 {n} drill(s) running, not listed here: `/incident list drills`.", n=running))]
