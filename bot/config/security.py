"""`incident_types`, `external_contacts` and `reviews` (SPEC §13): security incidents and the contact book.

Kept apart from policy.py (its size limit); the models are part of the policy file all the same.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.durations import Duration
from bot.config.strict import Strict
from bot.i18n import _

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,30}$")
# Words `/incident <word>` already means; a type by one of these names could never be declared.
RESERVED_TYPE_NAMES = frozenset({"p0", "p1", "p2", "p3", "drill", "list", "help", "contacts", "audit"})


class IncidentType(Strict):
    """One kind of incident (`/incident <type> p1 <title>`): its desk, its label, its room."""

    label: str = Field(description="Shown beside the severity on the summary, e.g. 安全事件.")
    escalation: str | None = Field(
        default=None,
        description="Name of an entry of `escalation_policies` (the type's desk) paged instead of the "
        "severity's ladder; unset: the policy named like the type if there is one, else the severity's ladder.",
    )
    private: bool = Field(
        default=False,
        description="A private room (groups:write); the title is kept out of announcements, "
        "`/incident list` for non-members, metric labels and reports; the postmortem stays in the room.",
    )
    checklist: str | None = Field(
        default=None,
        description="Checklist posted in the room: `security` (the guide's key-leak procedure: rotate, "
        "assess the impact, audit access, notify) or unset for the response steps.",
    )

    @field_validator("checklist")
    @classmethod
    def _checklist(cls, value: str | None) -> str | None:
        if value is not None and value not in ("security", "response"):
            raise ValueError(_("unknown checklist {value}: use security or response", value=repr(value)))
        return value


DEFAULT_INCIDENT_TYPES: dict[str, IncidentType] = {
    # No `escalation`: escalation_policies.security (the 安全值班 desk) when defined, else the default ladder.
    "security": IncidentType(label="安全事件 security", private=True, checklist="security")
}


class ExternalContact(Strict):
    """An external support line (cloud provider, monitoring vendor) shown by `/incident contacts`."""

    name: str = Field(description="Who they are, e.g. 云服务商支持.")
    phone: str | None = Field(default=None, description="Phone number to call.")
    email: str | None = Field(default=None, description="E-mail address.")
    url: str | None = Field(default=None, description="Support portal URL.")
    note: str = Field(default="", description="Account number, contract level, when to call.")


class ReviewConfig(Strict):
    """CHECK:DOC-002 and DOC-001: contacts kept current, the process reviewed regularly."""

    contacts_every: Duration = Field(
        default=timedelta(weeks=1),
        description="How often every escalation target and rotation member is checked in Slack "
        "(exists, not deactivated; user groups not empty; SMS/e-mail present); findings go to announce_channel.",
    )
    policy_every: Duration = Field(
        default=timedelta(days=91),
        description="How often announce_channel is reminded to review the policy and the runbook "
        "(default quarterly), with what changed since the last review.",
    )


def check_type_names(types: dict[str, IncidentType], policies: set[str]) -> None:
    """Type names must be typable after `/incident`, and their desk must exist."""
    for name, kind in types.items():
        if not TYPE_NAME.match(name) or name in RESERVED_TYPE_NAMES:
            raise ValueError(
                _(
                    "incident_types.{name}: a type name is 2-31 lower-case letters, digits, - or _, "
                    "and not one of {reserved}",
                    name=name,
                    reserved=", ".join(sorted(RESERVED_TYPE_NAMES)),
                )
            )
        if kind.escalation and kind.escalation not in policies:
            raise ValueError(
                _(
                    "incident_types.{name}.escalation names {desk}, which is not in escalation_policies ({known})",
                    name=name,
                    desk=repr(kind.escalation),
                    known=", ".join(sorted(policies)),
                )
            )


def desk_of(name: str, kind: IncidentType, policies: set[str]) -> str | None:
    """The escalation policy a type pages: its own, else the policy named like the type, else None."""
    if kind.escalation:
        return kind.escalation
    return name if name in policies else None
