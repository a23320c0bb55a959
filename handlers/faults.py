"""What people are told when the database fails them: at once, honestly, and what did not happen."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.engine import saved_count
from bot.db.guard import Fault, database_fault
from bot.i18n import N_, _


@dataclass(frozen=True)
class Outcome:
    """For one kind of command: what did not happen when the database failed before any save."""

    # Marked with N_ where they are written, translated here when the message is rendered.
    not_done: str  # "your note was not saved"
    check: str = N_("the pinned summary")  # where to look when a save may or may not have landed


NOTHING_CHANGED = Outcome(N_("nothing was changed"))
NOT_DECLARED = Outcome(
    N_("the incident was not declared (if it is urgent, call people directly)"), "`/incident list`"
)
NOT_READ = Outcome(N_("I could not read it"))

_WHY = {
    Fault.DOWN: N_("The database is not answering"),
    Fault.BUSY: N_("The database is busy (another writer holds its lock)"),
}


class Attempt:
    """One listener's database work: remembers what was saved before, so a failure is told right."""

    def __init__(self) -> None:
        self._saved_before = saved_count()

    def trouble(self, exc: BaseException, outcome: Outcome) -> str | None:
        """The message for `exc` if the database is to blame, else None (the caller's own handling)."""
        fault = database_fault(exc)
        if fault is None:
            return None
        if fault is Fault.UNKNOWN:
            return _(
                "⚠️ The database stopped answering while saving, so I cannot tell whether it was saved. "
                "Check {where} in a minute before trying again.",
                where=_(outcome.check),
            )
        if saved_count() > self._saved_before:
            return _(
                "⚠️ Saved, but the database stopped answering before I could finish the rest "
                "(messages, summary). Check {where} in a minute.",
                where=_(outcome.check),
            )
        return _(
            "⚠️ {why}; {not_done} — try again in a minute.", why=_(_WHY[fault]), not_done=_(outcome.not_done)
        )
