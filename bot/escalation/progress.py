"""Page progress: a DM's success written right after Slack took it, many pages to one commit.

The crash-window guard of delivery: if this process dies between a DM and `record`, the row is
taken again after its lease and the DM is not sent twice. One writer thread per engine drains what
the senders queued and writes it in one transaction, so a burst of a thousand pages costs a few
commits instead of a thousand (each a pooled connection and a WAL flush the senders waited on).
A write only lands on the attempt it belongs to while that attempt is still sending: once
`record` has written the outcome (which holds the same result), a late progress write changes nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select

from bot.escalation.models import PageOutbox

log = logging.getLogger(__name__)

IDLE_SECONDS = 30.0  # a writer with nothing to write for this long ends (an engine may be disposed of)
_writers: dict[int, _Writer] = {}
_writers_lock = threading.Lock()


class _Writer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="warroom-page-progress", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        table = PageOutbox.__table__
        # SKIP LOCKED: a row `record` holds is skipped, never waited for — this transaction holds
        # several rows, `record` holds its batch's, and waiting on each other would deadlock.
        # `record` writes the same result anyway. (SQLite has no row locks: the clause is dropped.)
        mine = (
            select(table.c.id)
            .where(
                table.c.id == bindparam("row_id"),
                table.c.status == "sending",
                table.c.attempts == bindparam("attempt"),
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            table.update()
            .where(table.c.id == mine)
            .values(
                deliveries=bindparam("progress"),
                sent_at=func.coalesce(table.c.sent_at, bindparam("first_sent")),
            )
        )
        while True:
            try:
                batch = [self.queue.get(timeout=IDLE_SECONDS)]
            except queue.Empty:
                with _writers_lock:  # `save` puts under this lock: nothing can arrive once we are gone
                    if self.queue.empty():
                        if _writers.get(id(self.engine)) is self:
                            del _writers[id(self.engine)]
                        return
                continue
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.engine.begin() as connection:
                    connection.execute(statement, batch)
            except Exception:  # `record` writes the same again; this is only the crash-window guard
                log.warning("could not save the progress of %d pages", len(batch), exc_info=True)


def save(engine: Engine, row_id: int, attempt: int, deliveries: dict[str, Any], sent_at: datetime) -> None:
    """Queue the row's deliveries so far; written within milliseconds, off the sender's thread."""
    with _writers_lock:
        writer = _writers.get(id(engine))
        if writer is None or writer.engine is not engine:
            writer = _writers[id(engine)] = _Writer(engine)
        writer.queue.put(
            {"row_id": row_id, "attempt": attempt, "progress": deliveries, "first_sent": sent_at}
        )
