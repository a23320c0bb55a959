"""`warroom report --since … [--until …] [--format md|csv] [--chart FILE] [--out FILE]`.

The same figures as `/incident report`, from the database in DATABASE_URL and the policy's targets.
The report goes to stdout (or FILE); the chart is written only where `--chart` says.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config import PolicyError, Settings, load_policy
from bot.db.engine import create_db_engine, make_session_factory
from bot.i18n import _, use_language
from bot.reports import figures, render
from bot.reports.period import PeriodError, parse_since


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help=_(
            "incidents by severity, response times against targets, missed targets, reviews, action items"
        ),
        description=_(
            "Incident figures for a period (drills left out): by severity, time to acknowledge / "
            "mitigate / resolve (median and p90) against targets, targets missed, overdue reviews, open "
            "action items by owner."
        ),
    )
    parser.add_argument(
        "--since", default="week", help=_("week, month, 14d or a date like 2026-11-01 (default: week)")
    )
    parser.add_argument("--until", default=None, help=_("end of the period, a date (default: now)"))
    parser.add_argument("--format", choices=("md", "csv"), default="md")
    parser.add_argument("--chart", type=Path, metavar="FILE", help=_("also write the PNG chart to FILE"))
    parser.add_argument("-o", "--out", type=Path, metavar="FILE", help=_("write the report to FILE"))
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    settings = settings or Settings()
    try:
        policy = load_policy(settings.warroom_config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    with use_language(policy.language):
        try:
            since = parse_since(args.since, now)
            until = parse_since(args.until, now) if args.until else now
        except PeriodError as exc:
            print(exc, file=sys.stderr)
            return 2
        engine = create_db_engine(settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                report = figures.build(session, policy, since, until, now)
        except SQLAlchemyError as exc:
            print(
                _("Cannot read the database: {error}. Has `warroom migrate` run?", error=type(exc).__name__),
                file=sys.stderr,
            )
            return 1
        finally:
            engine.dispose()
        body = render.markdown(report) if args.format == "md" else render.csv_text(report)
        if args.chart:
            args.chart.write_bytes(render.chart_png(report))
    if args.out:
        args.out.write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body)
    return 0
