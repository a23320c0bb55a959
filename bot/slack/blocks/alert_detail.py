"""The alert as the war-room summary and a proposal show it: summary, labels, links.

Alert text comes from monitoring and is untrusted: every piece of it goes through `esc`, which
escapes all of Slack's control characters (no <!channel>, no <@mention>, no <url|disguised> links)
and clips it. Links are only the http(s) URLs the parsers kept, shown under our own labels.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import N_, _
from bot.slack.blocks.common import Block, clip, context, section


def esc(text: object, limit: int = 500) -> str:
    """Untrusted text made inert for mrkdwn: &, <, > escaped (mentions too), size-bounded."""
    plain = clip(" ".join(str(text or "").split()) if limit <= 200 else str(text or ""), limit)
    return plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: object, limit: int = 120) -> str:
    return "`" + esc(text, limit).replace("`", "'") + "`"


def alert_blocks(detail: dict[str, Any], title: str | None = None) -> list[Block]:
    """The alert as the summary and the proposal show it: summary, labels, links."""
    labels: dict[str, Any] = detail.get("labels") or {}
    annotations: dict[str, Any] = detail.get("annotations") or {}
    source = esc(detail.get("source") or _("monitoring"), 64)
    if title:
        lines = [_("*Alert* from {source}: {title}", source=source, title=esc(title, 150))]
    else:
        lines = [_("*Alert* from {source}", source=source)]
    text = detail.get("summary") or annotations.get("description") or ""
    if text:
        lines.append(esc(text, 1500))
    blocks: list[Block] = [section("\n".join(lines))]
    if labels:
        shown = [f"{_code(k, 40)}={_code(v, 80)}" for k, v in list(labels.items())[:20]]
        blocks.append(context(_("Labels: {labels}", labels=" ".join(shown))))
    links = []
    for label, key in ((N_("Source"), "generator_url"), (N_("Silence"), "silence_url")):
        if detail.get(key):
            links.append(f"<{detail[key]}|{_(label)}>")
    for label, url in detail.get("links") or []:
        links.append(f"<{url}|{esc(label, 40).replace('|', '/')}>")
    service = labels.get("service")
    if service:
        links.append(_("triage: {command}", command=f"`/diag triage {esc(service, 60).replace('`', '')}`"))
    previous = detail.get("previous_incident_id")
    if previous:
        links.append(_("fired again after {handle}", handle=f"INC-{int(previous)}"))
    if links:
        blocks.append(context(" · ".join(links[:10])))
    return blocks
