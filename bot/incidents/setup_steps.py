"""The war-room set-up steps themselves: room (adopting a channel a lost answer made), invite,
summary + pin, checklist, announcement. Each fills `result` as it goes, so what it made is
recorded (bot.incidents.setup) even when a later call of the step fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.i18n import N_, _
from bot.incidents import service
from bot.incidents.models import Incident, SetupStep
from bot.ports import ChatError
from bot.runtime import Runtime

log = logging.getLogger(__name__)

NAME_SUFFIXES = (0, *range(2, 21))  # the second channel of a name is -2, as people number them
ROOM = "room"
LABELS = {
    ROOM: N_("the war-room channel"),
    "invite": N_("inviting the reporter and the paged people"),
    "summary": N_("the pinned summary"),
    "checklist": N_("the response checklist"),
    "announce": N_("the announcement"),
}
VERBS = {
    ROOM: N_("Could not create the channel: {error}"),
    "invite": N_("Could not invite the reporter: {error}"),
    "summary": N_("Could not post the summary: {error}"),
    "checklist": N_("Could not post the checklist: {error}"),
    "announce": N_("Could not announce in the announcements channel: {error}"),
}


def problem_text(stored: str) -> str:
    """A set-up problem as stored (English, Slack's error inside) in the language in force."""
    for msgid in VERBS.values():
        head = msgid.split("{error}", 1)[0]
        if stored.startswith(head):
            return _(msgid, error=stored[len(head) :])
    return _(stored)


# Answers another try will not change; anything else (429, 5xx, timeouts, resets) is retried.
PERMANENT = frozenset(
    {
        "restricted_action",
        "invalid_name",
        "invalid_name_specials",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "all_names_taken",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "user_not_found",
        "no_permission",
        "no_channel",
    }
)
# Slack calls of one incident's steps run side by side; a pool apart from the runtime's, so a
# burst of declarations waiting on their steps can never starve the steps themselves.


@dataclass(frozen=True)
class Claim:
    step: str
    attempt: int
    data: dict[str, Any]
    title: str
    declared_at: datetime
    drill: bool = False
    private: bool = False  # a private room (SPEC §13)


def _remember_names(runtime: Runtime, incident_id: int, names: list[str]) -> None:
    with runtime.session() as session:
        session.execute(
            update(SetupStep)
            .where(
                SetupStep.incident_id == incident_id,
                SetupStep.step == ROOM,
                SetupStep.claimed_by == runtime.worker_id,
            )
            .values(data={"names": names})
        )


def _room(runtime: Runtime, incident_id: int, claim: Claim, result: dict[str, Any]) -> None:
    tried = list(claim.data.get("names") or [])
    for suffix in NAME_SUFFIXES:
        name = service.channel_name(incident_id, claim.declared_at, claim.title, suffix, claim.drill)
        if name not in tried:
            tried.append(name)
            _remember_names(runtime, incident_id, tried)
        try:
            result.update(channel_id=runtime.warroom.create_channel(name, claim.private), channel_name=name)
            return
        except ChatError as exc:
            if exc.code != "name_taken":
                raise
        found = runtime.warroom.find_channel(name)
        # Ours: a name this step tried, made by our bot after the declaration (Slack counts whole seconds).
        if found and found.created_by_us and found.created >= int(claim.declared_at.timestamp()):
            log.info(
                "adopting channel %s made by an earlier attempt", found.id, extra={"incident_id": incident_id}
            )
            result.update(channel_id=found.id, channel_name=name)
            return
    raise ChatError("all_names_taken", "every channel name was taken")


def _invitees(session: Session, incident: Incident) -> list[str]:
    from bot.escalation.models import PageOutbox
    from bot.escalation.service import ladder, ladder_name, snapshot_policy

    users = {incident.reporter_id, incident.commander_id}
    # Paged people join the room when it is made: pages can leave before it exists.
    users |= set(
        session.scalars(
            select(PageOutbox.target).where(
                PageOutbox.incident_id == incident.id,
                PageOutbox.kind == "page",
                PageOutbox.status.in_(("pending", "sending", "sent")),
            )
        )
    )
    policy = snapshot_policy(incident)
    tiers = ladder(policy, ladder_name(policy, incident.severity)).tiers
    users |= {t for t in tiers[0].targets if t.startswith(("U", "W"))} if tiers else set()
    return sorted(u for u in users if u)


def _invite(runtime: Runtime, incident_id: int, claim: Claim, result: dict[str, Any]) -> None:
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None and incident.channel_id
        channel_id, reporter, users = incident.channel_id, incident.reporter_id, _invitees(session, incident)
    try:
        runtime.warroom.invite(channel_id, users)
    except ChatError as exc:
        if exc.code not in PERMANENT or len(users) == 1:
            raise
        # One unknown user must not keep the others out: invite one by one, the reporter first.
        for user in sorted(users, key=lambda u: u != reporter):
            try:
                runtime.warroom.invite(channel_id, [user])
            except ChatError as one:
                if one.code not in PERMANENT:
                    raise
                log.warning("could not invite %s: %s", user, one.code, extra={"incident_id": incident_id})


def _view(runtime: Runtime, incident_id: int) -> Any:
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        return service.view(session, incident)


def _shown(view: Any) -> Any:
    """What the summary shows (not the ts of the messages nor the checklist)."""
    return replace(view, summary_ts=None, checklist_ts=None, checklist=())


def _summary(runtime: Runtime, incident_id: int, claim: Claim, result: dict[str, Any]) -> None:
    view = _view(runtime, incident_id)
    ts = view.summary_ts
    if ts is None and claim.attempt > 1:  # an earlier attempt may have posted and lost the answer
        ts = runtime.warroom.find_post(view.channel_id, "summary", view)
    if ts is not None:  # posted by an earlier attempt, as the incident was then: show it as it is now
        result["summary_ts"] = ts
        runtime.warroom.pin(view.channel_id, ts)
        runtime.warroom.update_summary(replace(view, summary_ts=ts))
        return
    ts = result["summary_ts"] = runtime.warroom.post_summary(view).ts
    runtime.warroom.pin(view.channel_id, ts)
    fresh = _view(runtime, incident_id)
    if _shown(fresh) != _shown(view):  # acked or changed while we posted: show it as it is now
        runtime.warroom.update_summary(replace(fresh, summary_ts=ts))
    # A change committed after this read is caught by `mark_stale` (see `_record`).


def _checklist(runtime: Runtime, incident_id: int, claim: Claim, result: dict[str, Any]) -> None:
    view = _view(runtime, incident_id)
    ts = view.checklist_ts
    if ts is None and claim.attempt > 1:
        ts = runtime.warroom.find_post(view.channel_id, "checklist", view)
    if ts is None:
        ts = runtime.warroom.post_checklist(view).ts
    result["checklist_ts"] = ts
    fresh = _view(runtime, incident_id)
    if fresh.checklist != view.checklist:  # ticked while we posted
        runtime.warroom.update_checklist(replace(fresh, checklist_ts=ts))


def _announce(runtime: Runtime, incident_id: int, claim: Claim, result: dict[str, Any]) -> None:
    view = _view(runtime, incident_id)
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        channel = str((incident.policy_snapshot or {}).get("announce_channel") or "")
    if claim.attempt > 1 and runtime.warroom.find_post(channel, "announcement", view):
        return
    runtime.warroom.announce(channel, view)


STEPS: dict[str, Callable[[Runtime, int, Claim, dict[str, Any]], None]] = {
    ROOM: _room,
    "invite": _invite,
    "summary": _summary,
    "checklist": _checklist,
    "announce": _announce,
}
