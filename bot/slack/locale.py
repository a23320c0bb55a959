"""A person's language from their Slack locale (`users.info` with `include_locale`), cached per user.

What only one person sees (ephemeral answers, modals, DMs to them) is rendered in their language;
room messages stay in the workspace's (policy `language`). Looked up after the ack, never before
it; a Slack failure falls back to the workspace language without a word to the user.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk import WebClient

from bot.i18n import default_language, language_of_locale

log = logging.getLogger(__name__)

TTL_SECONDS = 3600.0  # a changed Slack language shows within the hour
MAX_PEOPLE = 4096  # bounded: the least recently used person is forgotten first


class LocaleCache:
    """(Slack API base URL, user id) -> our language or None (locale we do not speak), for `ttl` seconds."""

    def __init__(
        self, ttl: float = TTL_SECONDS, size: int = MAX_PEOPLE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()

    def language(self, client: WebClient, user_id: str) -> str | None:
        """The person's language, or None when Slack's locale is not one of ours or Slack failed."""
        key = (str(client.base_url), user_id)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        try:
            response = client.users_info(user=user_id, include_locale=True)
        except Exception as exc:  # any failure: the workspace language, and ask again next time
            log.debug("no locale for %s: %s", user_id, exc)
            return None
        language = language_of_locale((response.get("user") or {}).get("locale"))
        with self._lock:
            self._entries[key] = (now + self._ttl, language)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return language

    def peek(self, client: WebClient, user_id: str) -> str | None:
        """What is cached, without asking Slack: for answers that must go into the ack itself."""
        with self._lock:
            hit = self._entries.get((str(client.base_url), user_id))
        return hit[1] if hit is not None and hit[0] > self._clock() else None

    def __len__(self) -> int:
        return len(self._entries)


_PEOPLE = LocaleCache()


def language_for(client: WebClient, user_id: str | None, cache: LocaleCache | None = None) -> str:
    """The language to render what only `user_id` sees in: their Slack locale, else the workspace's."""
    if not user_id or user_id[:1] not in ("U", "W"):
        return default_language()
    return (cache or _PEOPLE).language(client, user_id) or default_language()


def person_language(client: WebClient, user_id: str) -> str | None:
    """The person's own language from their Slack locale, or None (not a person, not ours, no answer)."""
    if user_id[:1] not in ("U", "W"):
        return None
    return _PEOPLE.language(client, user_id)


def known_language_for(client: WebClient, user_id: str | None) -> str:
    """Like `language_for`, from the cache only (no Slack call): safe before `ack()`."""
    if not user_id:
        return default_language()
    return _PEOPLE.peek(client, user_id) or default_language()
