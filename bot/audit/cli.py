"""`warroom audit --incident N [--format csv|json] [--out FILE]`: an incident's complete audit record.

The same record `/incident audit` uploads to the room (CHECK:DOC-007), for handing to an auditor
without Slack. Read-only. The record goes to stdout (or FILE); notes go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.audit.export import export
from bot.config.settings import Settings
from bot.db.engine import create_db_engine, make_session_factory
from bot.i18n import _
from bot.incidents.models import Incident
from bot.postmortem.service import parse_incident_ref


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
    incident_id = parse_incident_ref(args.incident)
    if incident_id is None:
        print(
            _("`{ref}` is not an incident: give its number, like 42 or INC-42.", ref=args.incident),
            file=sys.stderr,
        )
        return 2
    settings = settings or Settings()
    engine = create_db_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                where = make_url(settings.database_url).render_as_string(hide_password=True)
                print(
                    _("There is no incident INC-{id} in {where}.", id=incident_id, where=where),
                    file=sys.stderr,
                )
                return 1
            record = export(session, incident_id, incident.channel_id)
    except SQLAlchemyError as exc:
        print(_("Cannot read the database: {error}. Has `warroom migrate` run?", error=exc.__class__.__name__),
              file=sys.stderr)  # fmt: skip
        return 1
    finally:
        engine.dispose()
    body = record.csv if args.format == "csv" else record.json
    note = _("INC-{id}: {count} audit entries", id=incident_id, count=len(record.rows))
    if args.out:
        args.out.write_text(body, encoding="utf-8")
        print(_("{note}: written to {path}", note=note, path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(body)
        print(note, file=sys.stderr)
    return 0
