"""The records Slack keeps (users, channels, usergroups, files) and their Web API JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def ts_key(ts: str | float | int | None) -> int:
    """A Slack ts ("1700000000.000100") as integer microseconds, so ordering never depends on floats."""
    if ts in (None, ""):
        return 0
    sec, _, frac = str(ts).partition(".")
    return int(sec) * 1_000_000 + int((frac + "000000")[:6])


def fmt_ts(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    email: str = ""
    tz: str = "UTC"
    tz_offset: int = 0
    # users.info with include_locale=true returns it; None (the seed default) leaves it out, so the bot
    # falls back to the workspace language — tests that need a person's language set it (en-US, zh-CN).
    locale: str | None = None
    is_bot: bool = False
    is_admin: bool = False
    deleted: bool = False
    bot_id: str | None = None

    def to_api(self, team_id: str, include_locale: bool = False) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "email": self.email,
            "team": team_id,
            "image_48": f"https://avatars.example/{self.id}_48.png",
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        } | ({"locale": self.locale} if include_locale and self.locale else {})


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    created: int
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    user: str | None = None  # the human peer of a bot DM
    members: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    pins: list[dict[str, Any]] = field(default_factory=list)
    topic: dict[str, Any] = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    purpose: dict[str, Any] = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})

    def find(self, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["ts"] == ts), None)

    def to_api(self, viewer: str, *, num_members: bool = False) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not (self.is_private or self.is_mpim),
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "creator": self.creator,
            "is_member": viewer in self.members,
            "topic": dict(self.topic),
            "purpose": dict(self.purpose),
            "previous_names": [],
        }
        if num_members:
            out["num_members"] = len(self.members)
        return out


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    description: str = ""

    def to_api(self, team_id: str, *, include_users: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 0,
            "user_count": len(self.users),
        }
        if include_users:
            out["users"] = list(self.users)
        return out


@dataclass
class File:
    id: str
    name: str
    user: str
    created: int
    title: str = ""
    content: bytes = b""
    uploaded: bool = False
    channels: list[str] = field(default_factory=list)

    def to_api(self, base_url: str) -> dict[str, Any]:
        ext = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "text/plain" if ext in ("txt", "md", "log") else "application/octet-stream",
            "filetype": ext,
            "user": self.user,
            "size": len(self.content),
            "is_public": bool(self.channels),
            "channels": list(self.channels),
            "url_private": f"{base_url}files/{self.id}/{self.name}",
            "permalink": f"{base_url}files/{self.id}",
        }


@dataclass
class ResponseUrl:
    """A response_url the driver handed to the bot, and every payload posted to it."""

    id: str
    channel: str
    user: str
    message_ts: str | None = None
    payloads: list[dict[str, Any]] = field(default_factory=list)
