"""`warroom audit --incident N [--format csv|json] [--out FILE]`: an incident's complete audit record.

The same record `/incident audit` uploads to the room (CHECK:DOC-007), for handing to an auditor
without Slack. Read-only. The record goes to stdout (or FILE); notes go to stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.audit.export import export
from bot.config.settings import Settings
from bot.i18n import _
from bot.incident_cli import Refused, emit, incident_session, refused


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help=_("export an incident's complete audit record (CSV or JSON)"),
        description=_(
            "Every diagnostic and remediation of an incident: actor, time, channel, command, "
            "outcome, findings. Secrets are masked."
        ),
    )
    parser.add_argument("--incident", required=True, help=_("the incident: 42 or INC-42"))
    parser.add_argument(
        "--format", choices=("csv", "json"), default="csv", help=_("output format (default csv)")
    )
    parser.add_argument("-o", "--out", type=Path, metavar="FILE", help=_("write to FILE instead of stdout"))
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    try:
        with incident_session(args.incident, settings or Settings()) as (session, incident):
            record = export(session, incident.id, incident.channel_id)
    except Refused as exc:
        return refused(exc)
    body = record.csv if args.format == "csv" else record.json
    return emit(body, _("INC-{id}: {count} audit entries", id=incident.id, count=len(record.rows)), args.out)
