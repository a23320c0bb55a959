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
from bot.i18n import N_, _, default_language, use_language
from bot.incidents.service import IncidentError
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event, outside_text

RESTRICTED = {
    "sev": N_("Only {who} may change the severity of {ref} (roles.incident_managers)."),
    "commander": N_("Only {who} may hand over the command of {ref} (roles.incident_managers)."),
    "resolve": N_("Only {who} may resolve {ref} (roles.incident_managers)."),
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
    groups = [_("user group {group}", group=m) for m in policy.roles.incident_managers if m.startswith("S")]
    commander = [_("the commander {who}", who=f"<@{commander_id}>")] if commander_id else []
    who = ", ".join([*commander, *people, *groups])
    refusal = _(RESTRICTED[verb], who=who, ref=f"INC-{incident_id}")
    raise IncidentError(
        refusal + " " + _("Ask one of them, or add a note with `/incident note <text>`. Nothing changed.")
    )


def record_outside(
    session: Session, incident_id: int, actor: str, what: str, via: str, **values: str
) -> None:
    """A change made from outside the war room, on the timeline with who made it and from where.

    `what` and `via` are msgids: the row keeps them (data) so each reader sees it in their language;
    its text is the workspace language's, for exports and old readers."""
    data = {"actor": actor, "outside_room": True, "via": via, "what": what, "values": values}
    with use_language(default_language()):
        text = outside_text(data)
    add_event(session, incident_id, EventKind.OUTSIDE_ROOM, BOT_ACTOR, text, data=data)
