"""The ports of bot.ports implemented on the Slack Web API (and so on the emulator behind the console)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.i18n import default_language, use_language
from bot.incidents.views import IncidentView
from bot.ports import ChatError, FoundChannel, PageRequest, Posted
from bot.slack.blocks import incident as incident_blocks
from bot.slack.blocks import response as response_blocks
from bot.slack.blocks import security as security_blocks
from bot.slack.client import post_json
from bot.slack.locale import language_for, person_language
from bot.text import escape


def _call(method: str, func, **kwargs):  # type: ignore[no-untyped-def]
    """Run one Web API call; a Slack error becomes a ChatError carrying Slack's error code."""
    try:
        return func(**kwargs)
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
        metrics.observe_slack_error(method, code)
        raise ChatError(code, f"{method}: {code}") from exc
    except OSError as exc:  # connection refused / reset after the retry handlers gave up
        metrics.observe_slack_error(method, "connection_error")
        raise ChatError("connection_error", f"{method}: {exc}") from exc


def _room():  # type: ignore[no-untyped-def]
    """Room messages are in the workspace's language, even when a person's command caused them."""
    return use_language(default_language())


class SlackGateway:
    """WarRoomPort + PagerPort + FilePort on one WebClient."""

    def __init__(self, client: WebClient):
        self.client = client
        self._bot_user_id: str | None = None

    def _me(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str(_call("auth.test", self.client.auth_test)["user_id"])
        return self._bot_user_id

    # WarRoomPort -------------------------------------------------------------------------
    def create_channel(self, name: str, private: bool = False) -> str:
        response = _call(
            "conversations.create", self.client.conversations_create, name=name, is_private=private
        )
        return response["channel"]["id"]

    def find_channel(self, name: str) -> FoundChannel | None:
        # Slack has no lookup by name; this walk only happens after a name_taken.
        cursor = None
        while True:
            response = _call(
                "conversations.list",
                self.client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=1000,
                cursor=cursor,
            )
            for channel in response.get("channels") or []:
                if channel.get("name") == name:
                    return FoundChannel(
                        str(channel["id"]),
                        name,
                        channel.get("creator") == self._me(),
                        int(channel.get("created") or 0),
                    )
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        users = sorted({u for u in user_ids if u and u[:1] in ("U", "W") and u.isalnum()})  # not alerts:…
        if not users:
            return
        try:
            _call(
                "conversations.invite",
                self.client.conversations_invite,
                channel=channel_id,
                users=",".join(users),
            )
        except ChatError as exc:
            if exc.code not in ("already_in_channel", "cant_invite_self"):
                raise

    def _post(self, channel_id: str | None, rendered: tuple[str, list[dict]]) -> Posted:
        text, blocks = rendered
        response = _call(
            "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=text, blocks=blocks
        )
        return Posted(response["channel"], response["ts"])

    def _update(self, channel_id: str | None, ts: str | None, rendered: tuple[str, list[dict]]) -> None:
        if not (channel_id and ts):
            return
        text, blocks = rendered
        _call("chat.update", self.client.chat_update, channel=channel_id, ts=ts, text=text, blocks=blocks)

    def find_post(self, channel_id: str, kind: str, incident: IncidentView) -> str | None:
        response = _call(
            "conversations.history", self.client.conversations_history, channel=channel_id, limit=200
        )
        with _room():
            fallback = {
                "summary": incident_blocks.summary_message,
                "checklist": incident_blocks.checklist_message,
                "announcement": security_blocks.announcement_for,
            }[kind](incident)[0]
        # The fallback text up to the first part that can change (status, channel) identifies it.
        stem = {"summary": f"{incident.handle} {incident.severity_tag} (", "checklist": fallback}.get(
            kind, fallback.split(" — declared by")[0]
        )
        me = self._me()
        for message in response.get("messages") or []:
            if message.get("user") == me and str(message.get("text", "")).startswith(stem):
                return str(message["ts"])
        return None

    def post_summary(self, incident: IncidentView) -> Posted:
        with _room():
            rendered = incident_blocks.summary_message(incident)
        return self._post(incident.channel_id, rendered)

    def update_summary(self, incident: IncidentView) -> None:
        with _room():
            rendered = incident_blocks.summary_message(incident)
        self._update(incident.channel_id, incident.summary_ts, rendered)

    def pin(self, channel_id: str, ts: str) -> None:
        try:
            _call("pins.add", self.client.pins_add, channel=channel_id, timestamp=ts)
        except ChatError as exc:
            if exc.code != "already_pinned":
                raise

    def post_checklist(self, incident: IncidentView) -> Posted:
        with _room():
            rendered = incident_blocks.checklist_message(incident)
        return self._post(incident.channel_id, rendered)

    def update_checklist(self, incident: IncidentView) -> None:
        with _room():
            rendered = incident_blocks.checklist_message(incident)
        self._update(incident.channel_id, incident.checklist_ts, rendered)

    def announce(self, channel_id: str, incident: IncidentView) -> None:
        with _room():
            text, blocks = security_blocks.announcement_for(incident)  # a private one names no title
        try:
            _call(
                "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=text, blocks=blocks
            )
        except ChatError as exc:
            if exc.code != "not_in_channel":
                raise
            # Public announcement channels can be joined by the bot itself; then try once more.
            _call("conversations.join", self.client.conversations_join, channel=channel_id)
            _call(
                "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=text, blocks=blocks
            )

    def notify(self, channel_id: str, text: str) -> Posted:
        # Domain text: plain words and <@U…> mentions; escaped here, at the edge, like every block.
        response = _call(
            "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=escape(text)
        )
        return Posted(response["channel"], response["ts"])

    def message_text(self, channel_id: str, ts: str) -> tuple[str, str | None]:
        response = _call(
            "conversations.history",
            self.client.conversations_history,
            channel=channel_id,
            latest=ts,
            oldest=ts,
            inclusive=True,
            limit=1,
        )
        messages = response.get("messages") or []
        if not messages:
            # A reply in a thread is not in history; conversations.replies finds it.
            response = _call(
                "conversations.replies", self.client.conversations_replies, channel=channel_id, ts=ts, limit=1
            )
            messages = [m for m in response.get("messages") or [] if m.get("ts") == ts]
        text = messages[0].get("text", "") if messages else ""
        try:
            link = _call(
                "chat.getPermalink", self.client.chat_getPermalink, channel=channel_id, message_ts=ts
            )["permalink"]
        except ChatError:
            link = None
        return text, link

    # ResponseClockPort -------------------------------------------------------------------
    def nudge_step(self, incident: IncidentView, step: str, over: timedelta, budget: timedelta) -> Posted:
        with _room():
            rendered = response_blocks.nudge_message(incident, step, over, budget)
        return self._post(incident.channel_id, rendered)

    def remind_status(self, to: str, incident: IncidentView, quiet_for: timedelta) -> Posted:
        # A DM is read by one person: in their Slack language; a room reminder in the workspace's.
        person = to[:1] in ("U", "W")
        with use_language(language_for(self.client, to)) if person else _room():
            rendered = response_blocks.reminder_message(to, incident, quiet_for)
        return self._post(to, rendered)

    # PagerPort ---------------------------------------------------------------------------
    def page(self, request: PageRequest) -> Posted:
        from bot.slack.blocks.page import page_message

        # The page DM is read by the person paged: in their Slack language (the workspace's otherwise).
        with use_language(language_for(self.client, request.user_id)):
            text, blocks = page_message(request)
        # A burst of pages is the bot's busiest moment: the lean call (bot.slack.client.post_json).
        response = _call(
            "chat.postMessage",
            partial(post_json, self.client, "chat.postMessage"),
            channel=request.user_id,
            text=text,
            blocks=blocks,
        )
        return Posted(response["channel"], response["ts"])

    def direct_message(self, user_id: str, text: str) -> Posted:
        response = _call("chat.postMessage", self.client.chat_postMessage, channel=user_id, text=escape(text))
        return Posted(response["channel"], response["ts"])

    def user_status(self, user_id: str) -> str:
        """DirectoryPort: "active", "deactivated" or "not_found" (users.info)."""
        try:
            user = _call("users.info", self.client.users_info, user=user_id)["user"]
        except ChatError as exc:
            if exc.code == "user_not_found":
                return "not_found"
            raise
        return "deactivated" if user.get("deleted") else "active"

    def language_of(self, user_id: str) -> str | None:
        return person_language(self.client, user_id)

    def group_members(self, group_id: str) -> list[str]:
        response = _call("usergroups.users.list", self.client.usergroups_users_list, usergroup=group_id)
        return list(response.get("users") or [])

    # What listeners say themselves (through here, so failures are counted like the rest) ------
    def post(self, channel_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> Posted:
        response = _call(
            "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=text, blocks=blocks
        )
        return Posted(response["channel"], response["ts"])

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        _call("chat.update", self.client.chat_update, channel=channel_id, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(self, channel_id: str, user_id: str, text: str) -> None:
        _call(
            "chat.postEphemeral", self.client.chat_postEphemeral, channel=channel_id, user=user_id, text=text
        )

    def is_member(self, channel_id: str, user_id: str) -> bool:
        """Whether the person is in the channel (paged through conversations.members)."""
        cursor = None
        while True:
            page = _call(
                "conversations.members",
                self.client.conversations_members,
                channel=channel_id,
                limit=1000,
                cursor=cursor,
            )
            if user_id in (page.get("members") or []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        _call("views.open", self.client.views_open, trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        _call("views.publish", self.client.views_publish, user_id=user_id, view=view)

    # FilePort ----------------------------------------------------------------------------
    def upload(self, channel_id: str, filename: str, title: str, content: str | bytes, comment: str) -> str:
        response = _call(
            "files.upload_v2",
            self.client.files_upload_v2,
            channel=channel_id,
            filename=filename,
            title=title,
            content=content,
            initial_comment=comment,
        )
        file = response.get("file") or (response.get("files") or [{}])[0]
        return str(file.get("id", ""))
