"""The report as Markdown (CLI and Slack file), CSV (one row per severity) and a PNG chart."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from functools import cache

from bot.config.durations import format_duration
from bot.i18n import N_, _, current_language, use_language
from bot.reports.figures import STEPS, Report
from bot.text import escape

STEP_NAMES = {"acknowledge": N_("acknowledge"), "mitigate": N_("mitigate"), "resolve": N_("resolve")}
SLACK_CHANNEL_URL = "https://slack.com/app_redirect?channel={channel}"
# Fonts that carry Chinese glyphs (matplotlib's own DejaVu Sans does not): Debian's fonts-noto-cjk,
# fonts-wqy-microhei / zenhei, Adobe's Source Han, and what macOS and Windows ship.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
)

log = logging.getLogger(__name__)


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def link(channel_id: str | None) -> str:
    return SLACK_CHANNEL_URL.format(channel=channel_id) if channel_id else ""


def markdown(report: Report) -> str:
    lines = [
        _(
            "# Incident report {since} → {until} (UTC)",
            since=f"{report.since:%Y-%m-%d %H:%M}",
            until=f"{report.until:%Y-%m-%d %H:%M}",
        ),
        "",
        _("{n} incident(s) declared; drills are not counted.", n=report.total),
        "",
        "| "
        + " | ".join(
            [_("severity"), _("incidents"), _("ack target"), _("acked within target")]
            + [_("{step} median / p90", step=_(STEP_NAMES[step])) for step in STEPS]
        )
        + " |",
        "|" + "---|" * (4 + len(STEPS)),
    ]
    for sev in report.severities:
        cells = [
            f"{sev.severity.upper()} {sev.label}",
            str(sev.incidents),
            format_duration(sev.target),
            f"{sev.within_target}/{sev.incidents}" if sev.incidents else "—",
        ]
        cells += [f"{duration(sev.steps[s].median)} / {duration(sev.steps[s].p90)}" for s in STEPS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _("## Targets missed"), ""]
    for missed in report.missed:
        after = (
            _("acknowledged after {after}", after=duration(missed.acknowledged_after))
            if missed.acknowledged_after is not None
            else _("never acknowledged")
        )
        lines.append(
            _(
                "- INC-{id} {sev} {title} — {after} (target {target}) {link}",
                id=missed.incident_id,
                sev=missed.severity.upper(),
                title=missed.title,
                after=after,
                target=format_duration(missed.target),
                link=link(missed.channel_id),
            ).rstrip()
        )
    if not report.missed:
        lines.append(_("- none"))
    lines += ["", _("## Overdue reviews"), ""]
    for review in report.overdue_reviews:
        lines.append(
            _(
                "- INC-{id} {title} — review due {due} UTC, commander {commander} {link}",
                id=review.incident_id,
                title=review.title,
                due=f"{review.due_at:%Y-%m-%d %H:%M}",
                commander=review.commander_id or _("nobody"),
                link=link(review.channel_id),
            ).rstrip()
        )
    if not report.overdue_reviews:
        lines.append(_("- none"))
    lines += ["", _("## Open action items by owner"), ""]
    for owner, count in report.action_items.items():
        lines.append(_("- {owner}: {n}", owner=owner or _("(no owner)"), n=count))
    if not report.action_items:
        lines.append(_("- none"))
    return "\n".join(lines) + "\n"


def slack_text(report: Report) -> str:
    """The report as Slack mrkdwn (the `/incident report` answer and the weekly post)."""
    lines = [
        _(
            ":bar_chart: *Incident report {since} → {until} (UTC)* — {n} incident(s); drills not counted",
            since=f"{report.since:%Y-%m-%d}",
            until=f"{report.until:%Y-%m-%d}",
            n=report.total,
        )
    ]
    for sev in report.severities:
        if not sev.incidents:
            continue
        ack, mitigate, resolve = (sev.steps[s] for s in STEPS)
        lines.append(
            _(
                "• *{sev}* {label}: {n} — ack {ack_median} (p90 {ack_p90}), {within}/{n} within {target} · "
                "mitigate {mit_median} (p90 {mit_p90}) · resolve {res_median} (p90 {res_p90})",
                sev=sev.severity.upper(),
                label=sev.label,
                n=sev.incidents,
                ack_median=duration(ack.median),
                ack_p90=duration(ack.p90),
                within=sev.within_target,
                target=format_duration(sev.target),
                mit_median=duration(mitigate.median),
                mit_p90=duration(mitigate.p90),
                res_median=duration(resolve.median),
                res_p90=duration(resolve.p90),
            )
        )
    if report.missed:
        lines.append(_("*Targets missed*"))
        for missed in report.missed[:20]:
            after = (
                _("acknowledged after {after}", after=duration(missed.acknowledged_after))
                if missed.acknowledged_after is not None
                else _("never acknowledged")
            )
            room = f" <#{missed.channel_id}>" if missed.channel_id else ""
            lines.append(
                _(
                    "• INC-{id} {sev} {title} — {after} (target {target})",
                    id=missed.incident_id,
                    sev=missed.severity.upper(),
                    title=escape(missed.title),
                    after=after,
                    target=format_duration(missed.target),
                )
                + room
            )
    if report.overdue_reviews:
        lines.append(_("*Overdue reviews*"))
        for review in report.overdue_reviews[:20]:
            lines.append(
                _(
                    "• INC-{id} {title} — due {due} UTC, commander {commander}",
                    id=review.incident_id,
                    title=escape(review.title),
                    due=f"{review.due_at:%Y-%m-%d}",
                    commander=f"<@{review.commander_id}>" if review.commander_id else _("nobody"),
                )
            )
    if report.action_items:
        owners = ", ".join(
            f"<@{owner}> {count}" if owner else _("(no owner)") + f" {count}"
            for owner, count in report.action_items.items()
        )
        lines.append(_("*Open action items by owner*: {owners}", owners=owners))
    return "\n".join(lines)


CSV_COLUMNS = (
    "severity",
    "incidents",
    "ack_target_s",
    "acked_within_target",
    "missed",
    *(f"{step}_{what}" for step in STEPS for what in ("count", "median_s", "p90_s")),
)


def csv_text(report: Report) -> str:
    """One row per severity; times in whole seconds (empty where no incident reached the step)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for sev in report.severities:
        row: list[object] = [
            sev.severity,
            sev.incidents,
            int(sev.target.total_seconds()),
            sev.within_target,
            sum(1 for m in report.missed if m.severity == sev.severity),
        ]
        for step in STEPS:
            figures = sev.steps[step]
            row += [
                figures.count,
                "" if figures.median is None else round(figures.median),
                "" if figures.p90 is None else round(figures.p90),
            ]
        writer.writerow(row)
    return out.getvalue()


@cache
def cjk_font() -> str | None:
    """The first installed font of CJK_FONTS, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def chart_png(report: Report) -> bytes:
    """The chart in the language in force; in English where no installed font has Chinese glyphs
    (boxes instead of characters would say nothing: the report's text beside it stays Chinese)."""
    language, font = current_language(), None
    if language == "zh":
        font = cjk_font()
        if font is None:
            log.warning(
                "no CJK font installed (e.g. fonts-noto-cjk): the report chart's labels are in English"
            )
            language = "en"
    with use_language(language):
        return _chart(report, font)


def _chart(report: Report, font: str | None) -> bytes:
    """Median time to acknowledge / mitigate / resolve per severity, in minutes, with the ack target."""
    import matplotlib

    matplotlib.use("Agg")  # no display; set before pyplot loads
    from matplotlib.figure import Figure

    # The font per text, not in rcParams: a process-wide setting would race between report threads.
    family = {"fontfamily": font} if font else {}
    figure = Figure(figsize=(8, 4), dpi=100)  # a Figure, not pyplot: no global state across threads
    axes = figure.subplots()
    severities = [s for s in report.severities if s.incidents] or report.severities
    width = 0.25
    for offset, step in enumerate(STEPS):
        values = [(s.steps[step].median or 0) / 60 for s in severities]
        positions = [i + (offset - 1) * width for i in range(len(severities))]
        axes.bar(positions, values, width, label=_(STEP_NAMES[step]))
    for i, sev in enumerate(severities):
        target = sev.target.total_seconds() / 60
        axes.hlines(target, i - 1.5 * width, i + 1.5 * width, colors="red", linestyles="dashed")
    axes.set_xticks(range(len(severities)), [s.severity.upper() for s in severities])
    axes.set_ylabel(_("minutes (median)"), **family)
    axes.set_title(
        _(
            "Response times {since} → {until} (red: ack target)",
            since=f"{report.since:%Y-%m-%d}",
            until=f"{report.until:%Y-%m-%d}",
        ),
        fontsize=9,
        **family,
    )
    axes.legend(prop={"size": 8, **({"family": font} if font else {})})
    axes.grid(axis="y", alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
