"""/incident report [week|month] — the team's response figures, posted where it is asked (SPEC §12)."""

from __future__ import annotations

from bot.i18n import N_, _
from bot.incidents.service import IncidentError
from bot.ports import ChatError
from bot.reports import figures, render
from bot.reports.period import PERIODS
from handlers.subcommands import CommandContext, subcommand

PERIOD_NAMES = {"week": N_("7 days"), "month": N_("30 days")}


@subcommand(
    "report",
    "report [week|month]",
    N_("Response figures of the last 7 or 30 days against targets (drills not counted), with a chart."),
    in_incident=False,
)
def report(ctx: CommandContext) -> None:
    period = (ctx.args or "week").lower()
    if period not in PERIODS:
        raise IncidentError(_("`/incident report week` or `/incident report month`: which period?"))
    runtime = ctx.runtime
    now = runtime.clock.now()
    with runtime.session() as session:
        figures_ = figures.build(session, runtime.policy, now - PERIODS[period], now, now)
    ctx.respond(text=render.slack_text(figures_), response_type="in_channel")
    try:
        runtime.files.upload(
            ctx.channel_id,
            f"report-{now:%Y-%m-%d}-{period}.png",
            _("Response times, last {period}", period=_(PERIOD_NAMES[period])),
            render.chart_png(figures_),
            "",
        )
    except ChatError as exc:
        ctx.respond(text=_("The chart could not be uploaded here ({error}).", error=exc.code))
