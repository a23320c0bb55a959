"""The timeline: every change, page, note, pin, diagnostic and remediation, in UTC, exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.i18n import N_, _, use_language
from bot.incidents.models import TimelineEvent

BOT_ACTOR = "warroom"


class EventKind(StrEnum):
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SEVERITY = "severity"
    ROLE = "role"
    NOTE = "note"
    STATUS_UPDATE = "status_update"
    PIN = "pin"
    REACTION = "reaction"
    CHECKLIST = "checklist"
    PAGE = "page"
    PAGE_FAILED = "page_failed"
    ESCALATION = "escalation"
    RESPONSE_BREACH = "response_breach"
    DIAGNOSTIC = "diagnostic"
    REMEDIATION = "remediation"
    POSTMORTEM = "postmortem"
    REVIEW = "review"
    ACTION_ITEM = "action_item"
    SETUP_ERROR = "setup_error"
    OUTSIDE_ROOM = "outside_room"  # a lifecycle change by someone not in the war room
    RESPONSE_CLOCK = "response_clock"  # a step over its budget, a status reminder (bot.response)
    ALERT = "alert"  # the monitoring alert that opened it, its folded repeats and its resolution


# How each kind is named when the timeline is shown (the stored kind stays the English key).
KIND_LABELS: dict[str, str] = {
    "declared": N_("declared"),
    "acknowledged": N_("acknowledged"),
    "mitigated": N_("mitigated"),
    "resolved": N_("resolved"),
    "reopened": N_("reopened"),
    "severity": N_("severity"),
    "role": N_("role"),
    "note": N_("note"),
    "status_update": N_("status update"),
    "pin": N_("pin"),
    "reaction": N_("reaction"),
    "checklist": N_("checklist"),
    "page": N_("page"),
    "page_failed": N_("page failed"),
    "escalation": N_("escalation"),
    "response_breach": N_("response target missed"),
    "diagnostic": N_("diagnostic"),
    "remediation": N_("remediation"),
    "postmortem": N_("postmortem"),
    "review": N_("review"),
    "action_item": N_("action item"),
    "setup_error": N_("set-up error"),
    "outside_room": N_("outside the room"),
    "alert": N_("alert"),
}
# Kinds whose stored text is written by Warroom, never typed by a person: a fixed text is a msgid.
_OWN_TEXT = {"acknowledged", "mitigated", "resolved", "reopened", "review", "postmortem", "checklist"}


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _render(spec: dict[str, Any]) -> str:
    values = {k: (_(v) if k in spec.get("translated", ()) else v) for k, v in spec["values"].items()}
    return _(spec["msgid"], **values)


def who_ref(actor: str, incident_id: int) -> dict[str, str]:
    """The values of "{who} acknowledged {ref}." and its kin."""
    return {"who": f"<@{actor}>", "ref": f"INC-{incident_id}"}


def said(msgid: str, translated: tuple[str, ...] = (), **values: str) -> tuple[str, dict[str, Any]]:
    """A timeline text Warroom writes: (English text for the row, data to render it in any language).

    `translated` names values that are msgids themselves (a guide step's name)."""
    spec = {"msgid": msgid, "values": values, "translated": list(translated)}
    with use_language("en"):
        return _render(spec), {"i18n": spec}


def outside_text(data: dict[str, object]) -> str:
    """The timeline line of a change from outside the room, in the language in force."""
    values = {k: str(v) for k, v in dict(data.get("values") or {}).items()}  # type: ignore[call-overload]
    what = _(str(data.get("what") or ""), **values) if values else _(str(data.get("what") or ""))
    return _(
        "{actor} {what} from outside the war room ({via}).",
        actor=f"<@{data.get('actor')}>",
        what=what,
        via=_(str(data.get("via") or "")),
    )


def event_text(kind: str, text: str, data: dict[str, Any] | None) -> str:
    """A row's text in the reader's language where Warroom wrote it; what people typed stays as typed."""
    spec = (data or {}).get("i18n")
    if isinstance(spec, dict) and "msgid" in spec:
        return _render(spec)
    if kind == "outside_room" and (data or {}).get("what"):
        return outside_text(data or {})
    return _(text) if kind in _OWN_TEXT else text


def add_event(
    session: Session,
    incident_id: int,
    kind: EventKind | str,
    actor: str,
    text: str = "",
    *,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    at: datetime | None = None,
) -> TimelineEvent | None:
    """Append an event; with a `dedupe_key` already used for this incident, do nothing and return None."""
    event = TimelineEvent(
        incident_id=incident_id,
        kind=str(kind),
        actor=actor,
        text=text,
        link=link,
        data=data or {},
        dedupe_key=dedupe_key,
        at=at or utcnow(),
    )
    if dedupe_key is None:
        session.add(event)
        session.flush()
        return event
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    return event


def events(session: Session, incident_id: int, kinds: set[str] | None = None) -> list[TimelineEvent]:
    query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
    if kinds:
        query = query.where(TimelineEvent.kind.in_(sorted(kinds)))
    return list(session.scalars(query.order_by(TimelineEvent.at, TimelineEvent.id)))
