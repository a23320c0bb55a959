"""The rehearsal as text: one line per moment, times in the zone the rehearsal was asked in."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.config.durations import format_duration
from bot.i18n import _
from bot.rehearse.simulate import Rehearsal, Rung, Source


def _when(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _offset(rehearsal: Rehearsal, moment: datetime) -> str:
    return "+" + format_duration(moment - rehearsal.declared_at)


def _source(source: Source, zone: tzinfo) -> str:
    if source.kind == "group":
        return _("user group {group} (its members, as Slack lists them when paged)", group=source.target)
    if source.error:
        return _("{target}: nobody ({error})", target=source.target, error=source.error)
    who = ", ".join(source.users)
    if source.kind != "rotation" or source.shift_ends is None:
        return who
    return _(
        "{who} ({target}, on call until {until}, then {next})",
        who=who,
        target=source.target,
        until=_when(source.shift_ends, zone),
        next=source.next_user or "?",
    )


def _rung(rehearsal: Rehearsal, rung: Rung, zone: tzinfo) -> str:
    if not rung.sources:
        who = _("nobody (no targets configured)")
    else:
        who = "; ".join(_source(s, zone) for s in rung.sources)
    return _(
        "{offset:>9}  {when}  {tier} (loop {loop} of {loops}) pages {who}; next step after {timeout}",
        offset=_offset(rehearsal, rung.at),
        when=_when(rung.at, zone),
        tier=rung.tier,
        loop=rung.loop + 1,
        loops=rehearsal.repeat + 1,
        who=who,
        timeout=format_duration(rung.timeout),
    )


def render(rehearsal: Rehearsal, zone: tzinfo) -> list[str]:
    lines = [
        _(
            "Rehearsal: {sev} {label} declared {when} — ladder {ladder}, repeat {repeat}. Nothing is sent.",
            sev=rehearsal.severity.upper(),
            label=rehearsal.severity_label,
            when=_when(rehearsal.declared_at, zone),
            ladder=rehearsal.ladder_name,
            repeat=rehearsal.repeat,
        )
    ]
    events: list[tuple[datetime, int, str]] = [(r.at, 0, _rung(rehearsal, r, zone)) for r in rehearsal.rungs]
    target_at = rehearsal.declared_at + rehearsal.response_target
    # Production tells the room whenever the target passes unacknowledged, exhausted ladder or not.
    if rehearsal.acknowledged_at is None or rehearsal.acknowledged_at > target_at:
        events.append(
            (
                target_at,
                1,
                _(
                    "{offset:>9}  {when}  response target ({target}) passes unacknowledged: the room is told",
                    offset=_offset(rehearsal, target_at),
                    when=_when(target_at, zone),
                    target=format_duration(rehearsal.response_target),
                ),
            )
        )
    if rehearsal.acknowledged_at is not None:
        events.append(
            (
                rehearsal.acknowledged_at,
                2,
                _(
                    "{offset:>9}  {when}  acknowledged: escalation stops",
                    offset=_offset(rehearsal, rehearsal.acknowledged_at),
                    when=_when(rehearsal.acknowledged_at, zone),
                ),
            )
        )
    if rehearsal.exhausted_at is not None:
        events.append(
            (
                rehearsal.exhausted_at,
                2,
                _(
                    "{offset:>9}  {when}  escalation exhausted: nobody acknowledged; the room is told",
                    offset=_offset(rehearsal, rehearsal.exhausted_at),
                    when=_when(rehearsal.exhausted_at, zone),
                ),
            )
        )
    lines += [text for _at, _order, text in sorted(events, key=lambda e: (e[0], e[1]))]
    for rung in rehearsal.empty_rungs:
        lines.append(
            _(
                "✗ {tier} (loop {loop}) pages nobody at {when}: {why}",
                tier=rung.tier,
                loop=rung.loop + 1,
                when=_when(rung.at, zone),
                why=_why(rung),
            )
        )
    return lines


def _why(rung: Rung) -> str:
    if not rung.sources:
        return _("it has no targets; add user ids, a user group or rotation:<name> to its targets")
    errors = [f"{s.target} ({s.error})" for s in rung.sources if s.error]
    return _("{targets} named nobody; fix them in the policy", targets=", ".join(errors))
