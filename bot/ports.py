"""Ports: what the domain needs from the outside world, as Protocols the Slack layer implements.

The domain (incidents, escalation, postmortem) calls these with domain snapshots
(`IncidentView`); it never builds Block Kit nor imports Slack. `bot.slack.gateway` is the
implementation for Slack and for the emulator behind `warroom console`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.alerts.views import AlertGroupView
from bot.incidents.views import IncidentView

if TYPE_CHECKING:
    from bot.config.policy import Policy


class ChatError(Exception):
    """A chat platform call failed after its retries; `code` is the platform's error (e.g. name_taken)."""

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        super().__init__(message or code)


class DeliveryError(Exception):
    """A page could not be delivered on one extra channel (SMS, e-mail, webhook); `code` is short and safe to show."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Posted:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class FoundChannel:
    """A channel found by name: who made it, and when (epoch seconds), to tell ours from others'."""

    id: str
    name: str
    created_by_us: bool
    created: int


class WarRoomPort(Protocol):
    """Opening and keeping the war room: channel, summary, checklist, announcement, notices."""

    def create_channel(self, name: str, private: bool = False) -> str: ...

    def find_channel(self, name: str) -> FoundChannel | None:
        """The channel of that exact name, archived or not (after `name_taken`)."""
        ...

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None: ...

    def find_post(self, channel_id: str, kind: str, incident: IncidentView) -> str | None:
        """The ts of our own recent `kind` message ("summary", "checklist", "announcement") for this
        incident in the channel: a post whose answer was lost (a timeout) is found, not made twice."""
        ...

    def post_summary(self, incident: IncidentView) -> Posted: ...

    def update_summary(self, incident: IncidentView) -> None: ...

    def pin(self, channel_id: str, ts: str) -> None: ...

    def post_checklist(self, incident: IncidentView) -> Posted: ...

    def update_checklist(self, incident: IncidentView) -> None: ...

    def announce(self, channel_id: str, incident: IncidentView) -> None: ...

    def notify(self, channel_id: str, text: str) -> Posted: ...

    def message_text(self, channel_id: str, ts: str) -> tuple[str, str | None]:
        """The text of a message and its permalink (for pins and :pushpin: reactions)."""
        ...


@dataclass(frozen=True)
class PageRequest:
    user_id: str
    incident: IncidentView
    tier_name: str
    reason: str  # "escalation" or "manual"
    requested_by: str | None = None


class ResponseClockPort(Protocol):
    """The guide's response clock in the chat: a step over its budget, a status reminder."""

    def nudge_step(self, incident: IncidentView, step: str, over: timedelta, budget: timedelta) -> Posted:
        """Tell the room once that `step` is `over` past its `budget` (counted from the declaration)."""
        ...

    def remind_status(self, to: str, incident: IncidentView, quiet_for: timedelta) -> Posted:
        """Remind `to` (the commander's user id, or the room's channel id) to post a status update."""
        ...


class PagerPort(Protocol):
    """Reaching a person for a page: a Slack DM with an Acknowledge button."""

    def page(self, request: PageRequest) -> Posted: ...

    def direct_message(self, user_id: str, text: str) -> Posted: ...

    def language_of(self, user_id: str) -> str | None:
        """The person's own language (their Slack locale) when Warroom speaks it, else None."""
        ...

    def group_members(self, group_id: str) -> list[str]: ...


class ContactsPort(Protocol):
    """Reaching a person beyond Slack: SMS, e-mail, webhook. Raises DeliveryError when it could not.

    `policy` is the live policy: the AWS account, the sender address and the webhook timeout are
    read from it at each page, so an edited policy applies to running incidents too.
    """

    def sms(self, policy: Policy, phone: str, text: str) -> str: ...

    def email(self, policy: Policy, to: str, subject: str, body: str) -> str: ...

    def webhook(self, policy: Policy, url: str, payload: dict[str, Any]) -> int: ...


class FilePort(Protocol):
    """Uploading a document (the postmortem) to a channel."""

    def upload(
        self, channel_id: str, filename: str, title: str, content: str | bytes, comment: str
    ) -> str: ...


class AlertPort(Protocol):
    """Alerts in the chat: proposals with Declare/Dismiss, and notices in the war room (folds, resolution)."""

    def post_proposal(self, channel_id: str, group: AlertGroupView) -> Posted: ...

    def update_proposal(self, channel_id: str, ts: str, group: AlertGroupView) -> None: ...

    def post_alert_notice(self, channel_id: str, group: AlertGroupView, kind: str) -> Posted:
        """kind: "fold" (repeat count), "storm" (the groups of a storm), "resolved" (with a Resolve button)."""
        ...

    def update_alert_notice(self, channel_id: str, ts: str, group: AlertGroupView, kind: str) -> None: ...
