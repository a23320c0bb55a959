"""Who may steer an incident: `roles.incident_managers` and the commander, and changes from outside the room.

With `roles.incident_managers` set, changing the severity, the commander and resolving are for the
managers (user ids, or members of user groups) and the incident's commander; everything else stays
open to anyone in the room. Changes from outside the war room (a page DM, a channel previewed but
not joined) are allowed where the rules allow them, and said so on the timeline with the actor.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.config.policy import Policy
from bot.incidents.service import IncidentError
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event

RESTRICTED = {
    "sev": "change the severity of",
    "commander": "hand over the command of",
    "resolve": "resolve",
}


def may(
    policy: Policy,
    commander_id: str | None,
    actor: str,
    group_members: Callable[[str], list[str]],
) -> bool:
    managers = policy.roles.incident_managers
    if not managers or actor == commander_id or actor in managers:
        return True
    for group in (m for m in managers if m.startswith("S")):
        try:
            if actor in group_members(group):
                return True
        except Exception:  # noqa: S112 - a group that cannot be read grants nothing; the next may
            continue
    return False


def check(
    policy: Policy,
    incident_id: int,
    commander_id: str | None,
    actor: str,
    verb: str,
    group_members: Callable[[str], list[str]],
) -> None:
    """Raise IncidentError saying who may, when `actor` may not run `verb` on this incident."""
    if verb not in RESTRICTED or may(policy, commander_id, actor, group_members):
        return
    people = [f"<@{m}>" for m in policy.roles.incident_managers if not m.startswith("S")]
    groups = [f"user group {m}" for m in policy.roles.incident_managers if m.startswith("S")]
    who = ", ".join([*(["the commander " + f"<@{commander_id}>"] if commander_id else []), *people, *groups])
    raise IncidentError(
        f"Only {who} may {RESTRICTED[verb]} INC-{incident_id} (roles.incident_managers). "
        "Ask one of them, or add a note with `/incident note <text>`. Nothing changed."
    )


def record_outside(session: Session, incident_id: int, actor: str, what: str, via: str) -> None:
    """A change made from outside the war room, on the timeline with who made it and from where."""
    add_event(
        session,
        incident_id,
        EventKind.OUTSIDE_ROOM,
        BOT_ACTOR,
        f"<@{actor}> {what} from outside the war room ({via}).",
        data={"actor": actor, "outside_room": True, "via": via},
    )
