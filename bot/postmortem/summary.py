"""The short message posted with an uploaded postmortem draft (files.completeUploadExternal's
initial_comment: mrkdwn text, no blocks), in the draft's language."""

from __future__ import annotations

from typing import Any

from bot.postmortem.content import DraftContent
from bot.postmortem.figures import Metric, Verdict
from bot.postmortem.render import duration
from bot.text import clip, escape

_ICON = {Verdict.MET: "✅", Verdict.MISSED: "❌", Verdict.PENDING: "⏳", Verdict.NOT_APPLICABLE: ""}

_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "head": ":memo: *Postmortem draft v{version}* for *{handle}* — {title}",
        "lasted": "lasted {d}",
        "open": "open for {d}",
        "metrics": "{ack} · {mit} · {res} (target {target})",
        "acknowledge": "acknowledged in {d}",
        "mitigate": "mitigated in {d}",
        "resolve": "resolved in {d}",
        "never": "not {verb} yet",
        "none": "never {verb}",
        "verbs": {"acknowledge": "acknowledged", "mitigate": "mitigated", "resolve": "resolved"},
        "counts": lambda events, actions: (
            f"{events} timeline {'entry' if events == 1 else 'entries'} · "
            f"{actions} action item{'' if actions == 1 else 's'}."
        ),
        "fill": "Fill in the root cause (5 whys), improvements and prevention",
        "due": "; review due {due}, then `/incident review done`.",
        "nodue": "; then `/incident review done` once reviewed.",
        "status": {
            "declared": "Declared",
            "acknowledged": "Acknowledged",
            "mitigated": "Mitigated",
            "resolved": "Resolved",
        },
    },
    "zh": {
        "head": ":memo: *{handle} 故障复盘草稿 v{version}* — {title}",
        "lasted": "持续 {d}",
        "open": "已持续 {d}",
        "metrics": "{ack} · {mit} · {res}（目标 {target}）",
        "acknowledge": "确认用时 {d}",
        "mitigate": "止损用时 {d}",
        "resolve": "解决用时 {d}",
        "never": "尚未{verb}",
        "none": "未{verb}",
        "verbs": {"acknowledge": "确认", "mitigate": "止损", "resolve": "解决"},
        "counts": lambda events, actions: f"时间线 {events} 条 · 行动项 {actions} 项。",
        "fill": "请补充根因分析（5个为什么）、改进措施和预防方案",
        "due": "；复盘截止 {due}，完成后输入 `/incident review done`。",
        "nodue": "；复盘完成后输入 `/incident review done`。",
        "status": {
            "declared": "已宣布",
            "acknowledged": "已确认",
            "mitigated": "已止损",
            "resolved": "已解决",
        },
    },
}


def _metric(words: dict[str, Any], metric: Metric, is_open: bool) -> str:
    if metric.elapsed is None:
        # "yet" only while it still can happen; a resolved incident nobody acknowledged never was.
        text = words["never" if is_open else "none"].format(verb=words["verbs"][metric.name])
    else:
        text = words[metric.name].format(d=duration(metric.elapsed))
    icon = _ICON[metric.verdict]
    return f"{text} {icon}" if icon else text


def upload_comment(content: DraftContent, *, version: int, language: str = "en") -> str:
    words = _TEXT.get(language, _TEXT["en"])
    incident, figures = content.incident, content.metrics
    lines = [
        words["head"].format(version=version, handle=incident.handle, title=escape(incident.title)),
        " · ".join(
            [
                f"{incident.severity_tag} {escape(incident.severity_label)}",
                words["status"].get(incident.status, incident.status),
                words["open" if figures.is_open else "lasted"].format(d=duration(figures.duration)),
            ]
        ),
        words["metrics"].format(
            ack=_metric(words, figures.time_to_acknowledge, figures.is_open),
            mit=_metric(words, figures.time_to_mitigate, figures.is_open),
            res=_metric(words, figures.time_to_resolve, figures.is_open),
            target=duration(content.target),
        ),
        words["counts"](len(content.events), len(content.actions))
        + " "
        + words["fill"]
        + (
            words["due"].format(due=f"{content.review_due:%Y-%m-%d %H:%M} UTC")
            if content.review_due and not content.review_done
            else words["nodue"]
        ),
    ]
    # initial_comment is a message: stay far below Slack's 4,000-character text guidance.
    return clip("\n".join(lines), 3000)
