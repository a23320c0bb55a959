"""`warroom postmortem <incident> [--out FILE] [--language en|zh] [--fresh] [--draft N]`.

Prints the latest stored draft (what was uploaded to Slack), or renders one from the timeline
when none is stored or `--fresh` / another `--language` is asked for. Read-only: a fresh render
is not stored, so the CLI never changes what the channel saw. The document goes to stdout (or
FILE); notes about which draft it is go to stderr, so `> file.md` captures only the document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import SystemClock
from bot.config.settings import Settings
from bot.db.engine import create_db_engine, make_session_factory
from bot.i18n import _, use_language
from bot.incidents.models import Incident
from bot.postmortem import service
from bot.postmortem.content import collect, policy_of
from bot.postmortem.models import PostmortemDraft
from bot.postmortem.render import LANGUAGES, render


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "postmortem",
        help=_("print or export an incident's postmortem draft"),
        description=_(
            "Print the latest stored postmortem draft of an incident, or render one from its timeline."
        ),
    )
    parser.add_argument("incident", help=_("the incident: 42 or INC-42"))
    parser.add_argument(
        "-o", "--out", type=Path, metavar="FILE", help=_("write the Markdown to FILE instead of stdout")
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help=_("language of the draft (default: the stored draft's, or the policy's)"),
    )
    parser.add_argument(
        "--fresh", action="store_true", help=_("render from the timeline now, ignoring stored drafts")
    )
    parser.add_argument("--draft", type=int, metavar="N", help=_("print stored draft version N"))
    parser.set_defaults(func=run)
    return parser


def _stored(session: Any, incident_id: int, args: argparse.Namespace) -> PostmortemDraft | None:
    if args.draft is not None:
        return session.scalar(
            select(PostmortemDraft).where(
                PostmortemDraft.incident_id == incident_id, PostmortemDraft.version == args.draft
            )
        )
    if args.fresh:
        return None
    return service.latest_draft(session, incident_id, args.language)


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    # Notes in the language asked for, else the incident's (its policy snapshot), else the default.
    with use_language(args.language):
        return _run(args, settings)


def _run(args: argparse.Namespace, settings: Settings | None) -> int:
    incident_id = service.parse_incident_ref(args.incident)
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
            policy = policy_of(incident)
            draft = _stored(session, incident_id, args)
            with use_language(args.language or policy.language):
                if args.draft is not None and draft is None:
                    print(
                        _("INC-{id} has no stored draft v{version}.", id=incident_id, version=args.draft),
                        file=sys.stderr,
                    )
                    return 1
                if draft is not None:
                    body = draft.body
                    note = _(
                        "INC-{id} draft v{version} ({language}), stored {when} UTC",
                        id=incident_id,
                        version=draft.version,
                        language=draft.language,
                        when=f"{draft.created_at:%Y-%m-%d %H:%M}",
                    )
                else:
                    language = args.language or policy.language
                    now = SystemClock().now()
                    version = service.next_version(session, incident_id)
                    content = collect(session, incident, now, policy)
                    body = render(content, language=language, version=version)
                    note = _(
                        "INC-{id} rendered from the timeline now ({language}); not stored",
                        id=incident_id,
                        language=language,
                    )
    except SQLAlchemyError as exc:
        print(
            _("Cannot read the database: {error}. Has `warroom migrate` run?", error=exc.__class__.__name__),
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    if args.out:
        args.out.write_text(body, encoding="utf-8")
        print(_("{note}: written to {path}", note=note, path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(body)
        print(note, file=sys.stderr)
    return 0
