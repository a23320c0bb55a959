"""Block Kit of drills: the list of running drills (`/incident list drills`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import _
from bot.incidents.views import IncidentView
from bot.slack.blocks.common import MAX_BLOCKS, Block, context, escape, header, section
from bot.slack.blocks.incident import SEVERITY_ICON


def drill_list(drills: Sequence[IncidentView]) -> tuple[str, list[Block]]:
    """`/incident list drills`: open drills only (they never appear in `/incident list`)."""
    if not drills:
        text = _("No drill is running. Start one with `/incident drill p1 <title>`.")
        return text, [section(text)]
    lines = [
        _(
            "{icon} *{handle}* {sev} {title} — {status}",
            icon=SEVERITY_ICON.get(d.severity, ""),
            handle=d.handle,
            sev=d.severity_tag,
            title=escape(d.title),
            status=d.status,
        )
        + (" — <#" + d.channel_id + ">" if d.channel_id else "")
        for d in drills
    ]
    blocks: list[Block] = [header(_("Drills running ({n})", n=len(drills)))]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return _("{n} drill(s) running", n=len(drills)), blocks[:MAX_BLOCKS]


def drills_hint(running: int) -> list[Block]:
    """Under `/incident list`: drills are not listed there, only pointed to."""
    if not running:
        return []
    return [context(_("🧯 {n} drill(s) running, not listed here: `/incident list drills`.", n=running))]
