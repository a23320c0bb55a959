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

from bot.clock import SystemClock
from bot.config.settings import Settings
from bot.i18n import _, use_language
from bot.incident_cli import Refused, emit, incident_session, refused
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
    try:
        with incident_session(args.incident, settings or Settings()) as (session, incident):
            incident_id = incident.id
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
    except Refused as exc:
        return refused(exc)
    return emit(body, note, args.out)
