"""The short message posted with an uploaded postmortem draft (files.completeUploadExternal's
initial_comment: mrkdwn text, no blocks), in the draft's language."""

from __future__ import annotations

from bot.i18n import N_, _, ngettext, use_language
from bot.postmortem.content import DraftContent
from bot.postmortem.figures import Metric, Verdict
from bot.postmortem.render import duration
from bot.text import clip, escape

_ICON = {Verdict.MET: "✅", Verdict.MISSED: "❌", Verdict.PENDING: "⏳", Verdict.NOT_APPLICABLE: ""}

_DONE = {
    "acknowledge": N_("acknowledged in {d}"),
    "mitigate": N_("mitigated in {d}"),
    "resolve": N_("resolved in {d}"),
}
# "yet" only while it still can happen; a resolved incident nobody acknowledged never was.
_NOT_YET = {
    "acknowledge": N_("not acknowledged yet"),
    "mitigate": N_("not mitigated yet"),
    "resolve": N_("not resolved yet"),
}
_NEVER = {
    "acknowledge": N_("never acknowledged"),
    "mitigate": N_("never mitigated"),
    "resolve": N_("never resolved"),
}
# The status words the summary and timeline already use; capitalised here, where one opens a phrase.
_STATUS = {
    "declared": N_("declared"),
    "acknowledged": N_("acknowledged"),
    "mitigated": N_("mitigated"),
    "resolved": N_("resolved"),
}


def _metric(metric: Metric, is_open: bool) -> str:
    if metric.elapsed is None:
        text = _((_NOT_YET if is_open else _NEVER)[metric.name])
    else:
        text = _(_DONE[metric.name], d=duration(metric.elapsed))
    icon = _ICON[metric.verdict]
    return f"{text} {icon}" if icon else text


def upload_comment(content: DraftContent, *, version: int, language: str = "en") -> str:
    with use_language(language if language in ("en", "zh") else "en"):
        return _comment(content, version)


def _comment(content: DraftContent, version: int) -> str:
    incident, figures = content.incident, content.metrics
    status = _(_STATUS[incident.status]) if incident.status in _STATUS else incident.status
    status = status[:1].upper() + status[1:]
    lasted = (
        _("open for {d}", d=duration(figures.duration))
        if figures.is_open
        else _("lasted {d}", d=duration(figures.duration))
    )
    counts = ngettext("{n} timeline entry", "{n} timeline entries", len(content.events)) + ngettext(
        " · {n} action item.", " · {n} action items.", len(content.actions)
    )
    if content.review_due and not content.review_done:
        due = _(
            "; review due {due}, then `/incident review done`.",
            due=f"{content.review_due:%Y-%m-%d %H:%M} UTC",
        )
    else:
        due = _("; then `/incident review done` once reviewed.")
    lines = [
        _(
            ":memo: *Postmortem draft v{version}* for *{handle}* — {title}",
            version=version,
            handle=incident.handle,
            title=escape(incident.title),
        ),
        " · ".join([f"{incident.severity_tag} {escape(incident.severity_label)}", status, lasted]),
        _(
            "{ack} · {mit} · {res} (target {target})",
            ack=_metric(figures.time_to_acknowledge, figures.is_open),
            mit=_metric(figures.time_to_mitigate, figures.is_open),
            res=_metric(figures.time_to_resolve, figures.is_open),
            target=duration(content.target),
        ),
        counts + " " + _("Fill in the root cause (5 whys), improvements and prevention") + due,
    ]
    # initial_comment is a message: stay far below Slack's 4,000-character text guidance.
    return clip("\n".join(lines), 3000)
