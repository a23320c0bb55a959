"""The CLI's read of one incident: `warroom audit` and `warroom postmortem` find it, and say what is
wrong when they cannot, the same way; their document goes to stdout or a file, the note to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config.settings import Settings
from bot.db.engine import create_db_engine, make_session_factory
from bot.i18n import _
from bot.incidents.models import Incident
from bot.postmortem.service import parse_incident_ref


class Refused(Exception):
    """What to tell on stderr, and the exit code: 2 for a bad argument, 1 for a missing incident."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@contextmanager
def incident_session(ref: str, settings: Settings) -> Iterator[tuple[Session, Incident]]:
    """A read session and the incident `ref` (42 or INC-42) names; Refused when there is none."""
    incident_id = parse_incident_ref(ref)
    if incident_id is None:
        raise Refused(2, _("`{ref}` is not an incident: give its number, like 42 or INC-42.", ref=ref))
    engine = create_db_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                where = make_url(settings.database_url).render_as_string(hide_password=True)
                raise Refused(1, _("There is no incident INC-{id} in {where}.", id=incident_id, where=where))
            yield session, incident
    except SQLAlchemyError as exc:
        raise Refused(
            1,
            _("Cannot read the database: {error}. Has `warroom migrate` run?", error=exc.__class__.__name__),
        ) from None
    finally:
        engine.dispose()


def refused(exc: Refused) -> int:
    print(exc.message, file=sys.stderr)
    return exc.code


def emit(body: str, note: str, out: Path | None) -> int:
    """The document to `out` (or stdout), the note about it to stderr, so `> file` holds only the document."""
    if out:
        out.write_text(body, encoding="utf-8")
        print(_("{note}: written to {path}", note=note, path=out), file=sys.stderr)
    else:
        sys.stdout.write(body)
        print(note, file=sys.stderr)
    return 0
