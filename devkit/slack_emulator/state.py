"""Workspace state of the emulator: everything Slack-side, inspectable and seedable from tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from devkit.slack_emulator.model import Channel, File, ResponseUrl, User, Usergroup, fmt_ts

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
P, R = ParamSpec("P"), TypeVar("R")


def _locked(fn: Callable[Concatenate[Workspace, P], R]) -> Callable[Concatenate[Workspace, P], R]:
    """Run a Workspace method under its lock: server threads mutate while tests read."""

    def wrapper(self: Workspace, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return fn(self, *args, **kwargs)

    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


class Workspace:
    """All Slack-side state. Every mutation happens under `lock`; readers get copies of lists."""

    def __init__(
        self,
        *,
        team_id: str = "T0WARROOM",
        team_name: str = "Warroom Dev",
        domain: str = "warroom-dev",
        bot_name: str = "warroom",
    ) -> None:
        self.lock = threading.RLock()
        self.team_id, self.team_name, self.domain = team_id, team_name, domain
        self._seq = 0
        self._last_us = 0
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self._dm_of: dict[str, str] = {}  # user -> their DM's id: a page is O(1), not a walk of every channel
        self.usergroups: dict[str, Usergroup] = {}
        self.files: dict[str, File] = {}
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.view_owner: dict[str, str] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.triggers: dict[str, tuple[str, float]] = {}
        self.tokens: dict[str, str] = {}
        self.app_id = self.new_id("A")
        self.bot_id = self.new_id("B")
        bot = self.add_user(bot_name, real_name=bot_name.title(), is_bot=True)
        bot.bot_id = self.bot_id
        self.bot_user_id = bot.id
        self.bot_token = f"xoxb-{team_id}-{bot.id}-emulator"
        self.tokens[self.bot_token] = bot.id
        # The app-level token (Socket Mode) acts as the app; the server allows it on apps.connections.open only.
        self.app_token = f"xapp-1-{self.app_id}-{team_id}-emulator"
        self.tokens[self.app_token] = bot.id

    # ids and clock ---------------------------------------------------------------------------
    @_locked
    def new_id(self, prefix: str) -> str:
        self._seq += 1
        n, digits = self._seq, ""
        while n:
            n, r = divmod(n, 36)
            digits = _B36[r] + digits
        return prefix + "0" + digits.rjust(8, "0")

    @_locked
    def new_ts(self) -> str:
        # Wall-clock based (bots compare ts with time.time()), but strictly increasing.
        self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        return fmt_ts(self._last_us)

    # seeding -----------------------------------------------------------------------------------
    @_locked
    def add_user(
        self,
        name: str,
        *,
        id: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        tz_offset: int = 0,
        locale: str | None = None,
        is_bot: bool = False,
        is_admin: bool = False,
        token: str | None = None,
    ) -> User:
        user = User(
            id=id or self.new_id("U"),
            name=name,
            real_name=real_name or name.title(),
            email=email if email is not None else f"{name}@example.com",
            tz=tz,
            tz_offset=tz_offset,
            locale=locale,
            is_bot=is_bot,
            is_admin=is_admin,
        )
        self.users[user.id] = user
        if token:
            self.tokens[token] = user.id
        for ch in self.channels.values():  # everyone is in #general, as in Slack
            if ch.is_general and user.id not in ch.members:
                ch.members.append(user.id)
        return user

    @_locked
    def add_channel(
        self,
        name: str,
        *,
        id: str | None = None,
        members: list[str] | tuple[str, ...] = (),
        is_private: bool = False,
        bot_member: bool = True,
        is_general: bool = False,
        topic: str = "",
        purpose: str = "",
        creator: str | None = None,
    ) -> Channel:
        # Slack gives new private channels C ids too; G is left to group DMs.
        ch = Channel(
            id=id or self.new_id("C"),
            name=name,
            creator=creator or self.bot_user_id,
            created=int(time.time()),
            is_private=is_private,
            is_general=is_general,
        )
        everyone = list(self.users) if is_general else list(members)
        if bot_member:
            everyone.insert(0, self.bot_user_id)
        elif is_general:
            everyone.remove(self.bot_user_id)
        ch.members = list(dict.fromkeys(everyone))
        ch.topic["value"], ch.purpose["value"] = topic, purpose
        self.channels[ch.id] = ch
        return ch

    @_locked
    def add_usergroup(
        self,
        handle: str,
        users: list[str] | tuple[str, ...] = (),
        *,
        id: str | None = None,
        name: str | None = None,
        description: str = "",
    ) -> Usergroup:
        group = Usergroup(
            id=id or self.new_id("S"),
            handle=handle,
            name=name or handle,
            users=list(users),
            description=description,
        )
        self.usergroups[group.id] = group
        return group

    def add_message(
        self,
        channel: str,
        user: str,
        text: str = "",
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A message a human typed (the emulator does not send the event; the driver does)."""
        ch = self.get_channel(channel)
        if ch is None:
            raise KeyError(f"no channel {channel!r}")
        return self.post(ch, user, text=text, blocks=blocks, thread_ts=thread_ts)

    # mutation shared by several API methods -------------------------------------------------------
    @_locked
    def post(
        self,
        ch: Channel,
        user: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        extra: dict[str, Any] | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": self.new_ts(),
            "team": self.team_id,
        }
        if blocks:
            msg["blocks"] = blocks
        if user == self.bot_user_id:
            msg.update(bot_id=self.bot_id, app_id=self.app_id)
        msg.update(extra or {})
        parent = ch.find(thread_ts) if thread_ts else None
        if thread_ts:
            msg["thread_ts"] = thread_ts  # Slack keeps an unknown thread_ts rather than failing
        if parent is not None:
            root = parent.get("thread_ts", parent["ts"])
            parent = ch.find(root) or parent
            msg["thread_ts"] = root
            if broadcast:
                msg["subtype"] = "thread_broadcast"
            parent["thread_ts"] = root
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["reply_users"] = list(dict.fromkeys([*parent.get("reply_users", []), user]))
            parent["latest_reply"] = msg["ts"]
        ch.messages.append(msg)
        return msg

    @_locked
    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> bool:
        """React to a message; False when the user had already reacted with `name`."""
        ch = self.get_channel(channel)
        msg = ch.find(ts) if ch else None
        if msg is None:
            raise KeyError(f"no message {ts} in {channel!r}")
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            return False
        entry["users"].append(user)
        entry["count"] = len(entry["users"])
        return True

    @_locked
    def issue_trigger(self, user: str) -> str:
        """A trigger_id as Slack puts in interactive payloads; views.open checks it and its age."""
        self._seq += 1
        trigger = f"{int(time.time())}.{self._seq}.{self._seq * 7919:032x}"
        self.triggers[trigger] = (user, time.monotonic())
        return trigger

    # queries ---------------------------------------------------------------------------------------
    @_locked
    def get_channel(self, ref: str) -> Channel | None:
        """By id, or by name with or without '#'."""
        return self.channels.get(ref) or self.find_channel(ref.lstrip("#"))

    @_locked
    def find_channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    @_locked
    def find_channel_prefix(self, prefix: str) -> Channel | None:
        """The newest channel whose name starts with `prefix` (e.g. "inc-")."""
        found = [c for c in self.channels.values() if c.name.startswith(prefix) and not c.is_im]
        return found[-1] if found else None

    @_locked
    def dm_channel(self, user_id: str) -> Channel | None:
        found = self._dm_of.get(user_id)
        return self.channels.get(found) if found else None

    @_locked
    def open_dm(self, user_id: str) -> Channel:
        ch = self.dm_channel(user_id)
        if ch is None:
            ch = Channel(
                id=self.new_id("D"),
                name=user_id,
                creator=self.bot_user_id,
                created=int(time.time()),
                is_im=True,
                user=user_id,
                members=[self.bot_user_id, user_id],
            )
            self.channels[ch.id] = ch
            self._dm_of[user_id] = ch.id
        return ch

    @_locked
    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """All messages of a channel, thread replies included, oldest first (or one thread's)."""
        ch = self.get_channel(channel)
        if ch is None:
            return []
        if thread_ts:
            return [m for m in ch.messages if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]
        return list(ch.messages)

    @_locked
    def dms(self, user_id: str) -> list[dict[str, Any]]:
        ch = self.dm_channel(user_id)
        return list(ch.messages) if ch else []

    @_locked
    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        cid = None
        if channel is not None:
            ch = self.get_channel(channel)
            cid = ch.id if ch else channel
        return [
            e
            for e in self.ephemeral_messages
            if (cid is None or e["channel"] == cid) and (user is None or e["user"] == user)
        ]

    @_locked
    def uploaded_files(self, channel: str) -> list[File]:
        ch = self.get_channel(channel)
        return [f for f in self.files.values() if ch and ch.id in f.channels]

    @_locked
    def user_by_name(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name.lstrip("@")), None)

    @_locked
    def open_modals(self, user: str) -> list[dict[str, Any]]:
        """The user's modal stack, bottom first."""
        return [self.views[v] for v in self.modal_stacks.get(user, [])]
