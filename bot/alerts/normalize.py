"""One shape for every sender's alert, made safe at the door: clipped, masked, control characters gone.

Escaping for Slack happens where text is rendered (bot.slack.blocks.alerts); here the text is made
small and secret-free, so what is stored, logged and listed is already harmless to keep.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bot.security.redact import mask, strip_ansi

MAX_LABELS = 64
MAX_KEY = 128
MAX_VALUE = 1000
MAX_TEXT = 2000
MAX_URL = 2000
MAX_TITLE = 140  # under the incident title limit (a Slack header holds 150)


class PayloadError(Exception):
    """The body is not what this kind of sender sends (answered 400 with this message)."""


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else ("" if value is None else json.dumps(value, default=str))
    text = mask(strip_ansi(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_url(value: object) -> str | None:
    """Only http(s) links survive; anything else (javascript:, slack:, …) is dropped."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        return None
    if any(ch in url for ch in "<>| \n\t\"'"):
        return None  # would break out of a Slack <url|text> link
    return mask(url)


def clean_map(values: object) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    out: dict[str, str] = {}
    for key, value in list(values.items())[:MAX_LABELS]:
        out[clean_text(key, MAX_KEY)] = clean_text(value, MAX_VALUE)
    return out


@dataclass
class Alert:
    """One alert as every kind is turned into; `action` is trigger | resolve | acknowledge."""

    group_key: str
    fingerprint: str
    action: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    title: str = ""
    summary: str = ""
    starts_at: str | None = None
    generator_url: str | None = None
    silence_url: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    # What makes two deliveries "the same alert news": hashed with the source into the dedupe key.
    identity: tuple[str, ...] = ()

    def group_hash(self, source: str) -> str:
        return digest(source, self.group_key)

    def dedupe_key(self, source: str) -> str:
        return digest(source, self.group_key, self.fingerprint, self.action, *self.identity)

    def as_json(self) -> dict[str, Any]:
        return {
            "group_key": self.group_key,
            "fingerprint": self.fingerprint,
            "action": self.action,
            "labels": self.labels,
            "annotations": self.annotations,
            "title": self.title,
            "summary": self.summary,
            "starts_at": self.starts_at,
            "generator_url": self.generator_url,
            "silence_url": self.silence_url,
            "links": [list(link) for link in self.links],
        }


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def title_of(labels: dict[str, str], annotations: dict[str, str], fallback: str = "Alert") -> str:
    """SPEC §10: the title comes from the summary annotation or the alert name."""
    title = annotations.get("summary") or labels.get("alertname") or annotations.get("title") or fallback
    # A title travels far (channel name, headers, fallback texts, announcements) and some of those
    # places are not escaped: Slack's control characters are swapped for look-alikes here, once.
    title = " ".join(title.split()).replace("<", "‹").replace(">", "›")
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"
