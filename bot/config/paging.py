"""Who is paged and how, beyond the Slack DM: on-call rotations, per-person contacts (SMS, e-mail,
webhook) and the paging settings; part of the policy (bot.config.policy)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.durations import Duration
from bot.config.strict import Strict
from bot.config.zones import TimeZoneName
from bot.i18n import _

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Rotation(Strict):
    users: list[str] = Field(description="Slack user ids, in on-call order.")
    handoff: str = Field(
        default="mon 10:00", description="Weekday and time of the handoff, e.g. 'mon 10:00'."
    )
    timezone: TimeZoneName = Field(
        default="UTC", description="IANA time zone of the handoff time, e.g. Asia/Shanghai."
    )
    every: Duration = Field(default=timedelta(weeks=1), description="Length of one shift: 1d, 1w, …")
    start: str | None = Field(
        default=None,
        description="ISO date of the first handoff (the first user's shift); default 2024-01-01.",
    )

    @field_validator("users")
    @classmethod
    def _users(cls, users: list[str]) -> list[str]:
        if not users:
            raise ValueError(_("a rotation needs at least one user"))
        for user in users:
            if not re.match(r"^[UW][A-Z0-9]{2,}$", user):
                raise ValueError(
                    _("invalid user id {user}: rotations list Slack user ids (U…)", user=repr(user))
                )
        return users

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        match = re.match(r"^\s*([a-z]{3})?\s*(\d{1,2}):(\d{2})\s*$", value.lower())
        if not match or (match.group(1) and match.group(1) not in _WEEKDAYS):
            raise ValueError(
                _("invalid handoff {value}: write a weekday and a time, like 'mon 10:00'", value=repr(value))
            )
        if int(match.group(2)) > 23 or int(match.group(3)) > 59:
            raise ValueError(_("invalid handoff time {value}", value=repr(value)))
        return value.lower().strip()

    @field_validator("every")
    @classmethod
    def _every(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1):
            raise ValueError(_("a shift must last at least 1h"))
        return value


class Contact(Strict):
    """Extra paging channels for one person, beside the Slack DM."""

    sms: str | None = Field(default=None, description="E.164 phone number for SMS pages through AWS SNS.")
    email: str | None = Field(default=None, description="E-mail address for pages through AWS SES.")
    webhook: str | None = Field(default=None, description="URL that receives a JSON POST for each page.")

    @field_validator("sms")
    @classmethod
    def _sms(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\+[1-9]\d{6,14}$", value):
            raise ValueError(
                _("invalid phone number {value}: use E.164, like +8613800000000", value=repr(value))
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError(_("invalid e-mail address {value}", value=repr(value)))
        return value

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError(_("invalid webhook {value}: use an http(s):// URL", value=repr(value)))
        return value


class PagingConfig(Strict):
    email_from: str | None = Field(default=None, description="SES sender address for e-mail pages.")
    aws: str | None = Field(default=None, description="Name of the `targets.aws` entry used for SNS and SES.")
    webhook_timeout: Duration = Field(default=timedelta(seconds=5), description="Timeout of a webhook page.")
