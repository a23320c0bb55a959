"""What people are told when the database fails them: at once, honestly, and what did not happen."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.engine import saved_count
from bot.db.guard import Fault, database_fault


@dataclass(frozen=True)
class Outcome:
    """For one kind of command: what did not happen when the database failed before any save."""

    not_done: str  # "your note was not saved"
    check: str = "the pinned summary"  # where to look when a save may or may not have landed


NOTHING_CHANGED = Outcome("nothing was changed")
NOT_DECLARED = Outcome(
    "the incident was not declared (if it is urgent, call people directly)", "`/incident list`"
)
NOT_READ = Outcome("I could not read it")

_WHY = {
    Fault.DOWN: "The database is not answering",
    Fault.BUSY: "The database is busy (another writer holds its lock)",
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
            return (
                "⚠️ The database stopped answering while saving, so I cannot tell whether it was saved. "
                f"Check {outcome.check} in a minute before trying again."
            )
        if saved_count() > self._saved_before:
            return (
                "⚠️ Saved, but the database stopped answering before I could finish the rest "
                f"(messages, summary). Check {outcome.check} in a minute."
            )
        return f"⚠️ {_WHY[fault]}; {outcome.not_done} — try again in a minute."
