"""Stored postmortem drafts (one version per draft, never overwritten) and action items."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config.policy import Policy
from bot.i18n import N_, _
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError, sanitize
from bot.incidents.timeline import EventKind, add_event, said
from bot.postmortem.content import DraftContent, collect, policy_of
from bot.postmortem.models import ActionItem, PostmortemDraft
from bot.postmortem.render import LANGUAGES, render

ACTION_MAX = 500  # the column's size
_OWNER = re.compile(r"\s*(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@([UW][A-Z0-9]{2,}))\s*$")
_INCIDENT_REF = re.compile(r"^(?:inc-?)?(\d+)$", re.IGNORECASE)


def parse_incident_ref(text: str) -> int | None:
    """'42', 'INC-42' or 'inc42' -> 42."""
    match = _INCIDENT_REF.match(text.strip())
    return int(match.group(1)) if match else None


def next_version(session: Session, incident_id: int) -> int:
    latest = session.scalar(
        select(func.max(PostmortemDraft.version)).where(PostmortemDraft.incident_id == incident_id)
    )
    return (latest or 0) + 1


def create_draft(
    session: Session,
    incident: Incident,
    created_by: str,
    now: datetime,
    *,
    language: str | None = None,
    policy: Policy | None = None,
    content: DraftContent | None = None,
) -> PostmortemDraft:
    """Render the draft from the timeline as it is now and store it as the next version."""
    policy = policy or policy_of(incident)
    language = language or policy.language
    if language not in LANGUAGES:
        raise IncidentError(_("Unknown language `{language}`: use en or zh.", language=language))
    content = content or collect(session, incident, now, policy)
    for _attempt in range(5):
        version = next_version(session, incident.id)
        draft = PostmortemDraft(
            incident_id=incident.id,
            version=version,
            language=language,
            body=render(content, language=language, version=version),
            created_by=created_by,
            created_at=now,
        )
        try:
            # Two drafts at once (resolve hook + a /incident postmortem, or two replicas): the
            # unique (incident, version) makes the loser take the next number instead of failing.
            with session.begin_nested():
                session.add(draft)
                session.flush()
        except IntegrityError:
            continue
        return draft
    raise RuntimeError(f"could not allocate a postmortem version for INC-{incident.id}")


def latest_draft(session: Session, incident_id: int, language: str | None = None) -> PostmortemDraft | None:
    query = select(PostmortemDraft).where(PostmortemDraft.incident_id == incident_id)
    if language:
        query = query.where(PostmortemDraft.language == language)
    return session.scalar(query.order_by(PostmortemDraft.version.desc()).limit(1))


def drafts(session: Session, incident_id: int) -> list[PostmortemDraft]:
    query = select(PostmortemDraft).where(PostmortemDraft.incident_id == incident_id)
    return list(session.scalars(query.order_by(PostmortemDraft.version)))


# Action items ------------------------------------------------------------------------------------


def parse_action(args: str) -> tuple[str, str | None]:
    """'<text> [@owner]' -> (text, owner id). The owner is a trailing mention."""
    text, owner = sanitize(args).strip(), None
    match = _OWNER.search(text)
    if match:
        owner = match.group(1) or match.group(2)
        text = text[: match.start()].strip()
    if not text:
        raise IncidentError(
            _(
                "Say what should be done, and by whom: "
                "`/incident action Alert on DB connections at 80% of max @alice`."
            )
        )
    if len(text) > ACTION_MAX:
        raise IncidentError(
            _(
                "That action item is {n} characters; keep it under {max}.",
                n=len(text),
                max=ACTION_MAX,
            )
        )
    return text, owner


def add_action(
    session: Session, incident: Incident, text: str, owner_id: str | None, actor: str, now: datetime
) -> tuple[int, ActionItem]:
    """Record an action item and put it on the timeline; returns (its number, the item)."""
    item = ActionItem(incident_id=incident.id, text=text, owner_id=owner_id, created_by=actor, created_at=now)
    session.add(item)
    session.flush()
    number = len(actions(session, incident.id))
    if owner_id:
        line, spoken = said(
            N_("Action item {n}: {text} (owner {who})"), n=str(number), text=text, who=f"<@{owner_id}>"
        )
    else:
        line, spoken = said(N_("Action item {n}: {text}"), n=str(number), text=text)
    add_event(
        session,
        incident.id,
        EventKind.ACTION_ITEM,
        actor,
        line,
        data={"action_id": item.id, "number": number, "owner": owner_id, **spoken},
        at=now,
    )
    return number, item


def actions(session: Session, incident_id: int) -> list[ActionItem]:
    query = select(ActionItem).where(ActionItem.incident_id == incident_id).order_by(ActionItem.id)
    return list(session.scalars(query))


def complete_action(
    session: Session, incident: Incident, number: int, actor: str, now: datetime
) -> ActionItem:
    items = actions(session, incident.id)
    if not 1 <= number <= len(items):
        listing = f"1–{len(items)}" if items else _("none yet")
        raise IncidentError(
            _(
                "There is no action item {n} on INC-{id} ({listing}). `/incident action` lists them.",
                n=number,
                id=incident.id,
                listing=listing,
            )
        )
    item = items[number - 1]
    if item.done_at is not None:
        raise IncidentError(
            _(
                "Action item {n} was already done on {when} UTC.",
                n=number,
                when=f"{item.done_at:%Y-%m-%d %H:%M}",
            )
        )
    item.done_at = now
    line, spoken = said(N_("Action item {n} done: {text}"), n=str(number), text=item.text)
    add_event(
        session,
        incident.id,
        EventKind.ACTION_ITEM,
        actor,
        line,
        data={"action_id": item.id, "number": number, "done": True, **spoken},
        at=now,
    )
    return item
