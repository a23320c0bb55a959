"""`warroom rehearse [--policy FILE] [--severity p1] [--at TIME] [--ack-after 20m]` (and the console's `:rehearse`).

Prints who the policy pages when; exit 0, or 1 with the reason when a tier pages nobody, or 2 for
input it cannot use (a bad policy file, time or duration) with what to type instead.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import PolicyError, Settings, load_policy
from bot.config.durations import parse_duration
from bot.config.policy import SEVERITY_KEYS, Policy
from bot.i18n import _, use_language
from bot.rehearse.render import render
from bot.rehearse.simulate import rehearse

_AT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::\d{2})?\s*(\S+)?\s*$")


class InputError(ValueError):
    """Input the rehearsal cannot use; the message says what to type instead."""


@dataclass(frozen=True)
class Outcome:
    lines: list[str]
    code: int  # 0 fine, 1 a tier pages nobody, 2 bad input


def parse_at(text: str | None, now: datetime) -> tuple[datetime, tzinfo]:
    """'2026-12-06 03:00 Asia/Shanghai' (or UTC, or +08:00) -> an aware moment and the zone to show it in."""
    if not text or text.strip().lower() == "now":
        return now, ZoneInfo("UTC")
    match = _AT.match(text)
    if not match:
        raise InputError(
            _(
                'Cannot read the time {text!r}: write it like "2026-12-06 03:00 Asia/Shanghai".',
                text=text,
            )
        )
    day, clock, zone_name = match.groups()
    naive = datetime.fromisoformat(f"{day} {clock.zfill(5)}")
    zone_name = zone_name or "UTC"
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", zone_name)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        delta = sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        fixed = timezone(delta)
        return naive.replace(tzinfo=fixed).astimezone(UTC), fixed
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            _("Unknown time zone {zone!r}: use an IANA name such as Asia/Shanghai or UTC.", zone=zone_name)
        ) from exc
    # A wall time the zone skips or repeats is read as production reads handoffs (fold=0).
    return naive.replace(tzinfo=zone).astimezone(UTC), zone


def run_rehearsal(
    policy: Policy, severity: str, at: str | None, ack_after: str | None, now: datetime
) -> Outcome:
    """The rehearsal's printed lines and exit code, in the policy's language."""
    with use_language(policy.language):
        try:
            severity = severity.lower()
            if severity not in SEVERITY_KEYS:
                raise InputError(_("Unknown severity {sev!r}: use p0, p1, p2 or p3.", sev=severity))
            moment, zone = parse_at(at, now)
            try:
                ack = parse_duration(ack_after) if ack_after else None
            except ValueError as exc:
                raise InputError(
                    _("Cannot read --ack-after {text!r}: write a duration like 20m.", text=ack_after)
                ) from exc
        except InputError as exc:
            return Outcome([str(exc)], 2)
        result = rehearse(policy, severity, moment, ack)
        lines = render(result, zone)
    return Outcome(lines, 1 if result.empty_rungs else 0)


def console_rehearsal(policy: Policy, args: str, now: datetime) -> Outcome:
    """`:rehearse [p1] [--at "…"] [--ack-after 20m]` in the console (the live policy)."""
    parser = _arguments(argparse.ArgumentParser(prog=":rehearse", add_help=False, exit_on_error=False))
    try:
        words = shlex.split(args)
        if words and not words[0].startswith("-"):
            words = ["--severity", *words]
        parsed = parser.parse_args(words)
    except (ValueError, argparse.ArgumentError, SystemExit):
        return Outcome(
            [_('Usage: :rehearse [p0|p1|p2|p3] [--at "2026-12-06 03:00 Asia/Shanghai"] [--ack-after 20m]')], 2
        )
    return run_rehearsal(policy, parsed.severity, parsed.at, parsed.ack_after, now)


def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--severity", default="p1", help=_("severity declared (default p1)"))
    parser.add_argument(
        "--at",
        default=None,
        help=_('when it is declared, e.g. "2026-12-06 03:00 Asia/Shanghai" (default: now, UTC)'),
    )
    parser.add_argument(
        "--ack-after", default=None, help=_("acknowledge this long after the declaration, e.g. 20m")
    )
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "rehearse",
        help=_("play a declaration on a fake clock: who the policy pages when (nothing is sent)"),
        description=_(
            "Play a declaration on a fake clock and print who is paged when, through every tier "
            "and repeat, rotations, hand-offs and DST changes. Nothing is sent. Exit 1 when a tier pages nobody."
        ),
    )
    parser.add_argument(
        "--policy", default=None, metavar="FILE", help=_("policy YAML (default: WARROOM_CONFIG)")
    )
    _arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.policy or Settings().warroom_config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    outcome = run_rehearsal(policy, args.severity, args.at, args.ack_after, datetime.now(UTC))
    stream = sys.stdout if outcome.code != 2 else sys.stderr
    for line in outcome.lines:
        print(line, file=stream)
    return outcome.code
