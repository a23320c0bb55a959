"""What the declarer and the room are told about a late set-up: once when it is late, once when it lands."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.i18n import _, default_language, use_language
from bot.incidents.models import Incident, SetupStep
from bot.incidents.setup_steps import LABELS, PERMANENT
from bot.ports import ChatError
from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    open: list[str]  # steps not finished yet (pending or running)
    late: dict[str, str]  # step -> last error, for open steps that failed at least once
    failed: dict[str, str]  # step -> error, given up (permanent)
    was_late: list[str]  # finished steps that needed more than one attempt


def progress(session: Session, incident_id: int) -> Progress:
    rows = session.scalars(
        select(SetupStep).where(SetupStep.incident_id == incident_id).order_by(SetupStep.id)
    )
    opened, late, failed, was_late = [], {}, {}, []
    for row in rows:
        if row.status in ("pending", "running"):
            opened.append(row.step)
            if row.error:
                late[row.step] = row.error
        elif row.status == "failed":
            failed[row.step] = row.error or "error"
        elif row.attempts > 1:
            was_late.append(row.step)
    return Progress(opened, late, failed, was_late)


def _flip(runtime: Runtime, incident_id: int, old: str | None, new: str | None) -> bool:
    """Move `setup_notice` old -> new; only one process wins, so each notice goes out once."""
    with runtime.session() as session:
        column = Incident.setup_notice
        where = column.is_(None) if old is None else column == old
        done = session.execute(
            update(Incident).where(Incident.id == incident_id, where).values(setup_notice=new)
        )
        return bool(done.rowcount)


def mark_late(runtime: Runtime, incident_id: int) -> None:
    """The declarer has been told (in the declare answer) that set-up is late; tell them when it lands."""
    _flip(runtime, incident_id, None, "late")


def late_text(handle: str, late: dict[str, str], opened: list[str]) -> str:
    what = ", ".join(_(LABELS[s]) for s in opened)
    why = "; ".join(
        _("{step}: Slack answered `{error}`", step=_(LABELS[s]), error=e) for s, e in late.items()
    )
    if why:
        what = f"{what} ({why})"
    return _(
        "⏳ *{ref}* is open and its tier 1 is being paged, but its set-up is late — {what}. "
        "I keep trying (at least every 30 s) and will tell you when it is ready.",
        ref=handle,
        what=what,
    )


def tell(runtime: Runtime, incident_id: int) -> None:
    """Tell the declarer (by DM) and the room what is late, once, and again once it has landed."""
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        now = progress(session, incident_id)
        notice, reporter, channel = incident.setup_notice, incident.reporter_id, incident.channel_id
        handle = f"INC-{incident.id}"
    if now.open and now.late and notice is None and _flip(runtime, incident_id, None, "late"):
        text = late_text(handle, now.late, now.open)
        with use_language(default_language()):  # the room's language
            room_text = late_text(handle, now.late, now.open)
        _send(runtime, incident_id, reporter, text, channel, room_text, undo=("late", None))
    elif not now.open and notice == "late" and _flip(runtime, incident_id, "late", "done"):
        where = f"<#{channel}>" if channel else _("(no channel)")
        text = _("✅ The war room of *{ref}* is ready: {where}.", ref=handle, where=where)
        if now.failed:
            missing = ", ".join(f"{_(LABELS[s])} ({e})" for s, e in now.failed.items())
            text += " " + _("Still missing: {steps}.", steps=missing)
        room = None
        if now.was_late:
            with use_language(default_language()):
                steps = ", ".join(_(LABELS[s]) for s in now.was_late)
                room = _("✅ Set-up finished late: {steps} now done.", steps=steps)
        _send(runtime, incident_id, reporter, text, channel, room, undo=("done", "late"))


def _send(
    runtime: Runtime,
    incident_id: int,
    user: str,
    text: str,
    channel: str | None,
    room_text: str | None,
    undo: tuple[str, str | None],
) -> None:
    try:
        runtime.pager.direct_message(user, text)
    except ChatError as exc:
        log.warning("set-up notice to %s failed: %s", user, exc.code, extra={"incident_id": incident_id})
        if exc.code not in PERMANENT:  # told next tick; a declarer we cannot DM (an alert source) is not
            _flip(runtime, incident_id, *undo)
            return
    if channel and room_text:
        try:
            runtime.warroom.notify(channel, room_text)
        except ChatError as exc:
            log.warning("set-up notice in the room failed: %s", exc.code, extra={"incident_id": incident_id})
