"""Webhook pages: a JSON POST to a URL the person configured (their own pager, a phone bridge, …)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx

from bot.contacts import DeliveryError, redact

log = logging.getLogger(__name__)


def post_webhook(url: str, payload: dict[str, Any], timeout: timedelta) -> int:
    """POST `payload`; any 2xx is delivered. Returns the HTTP status.

    The URL may carry a token, so errors name the host only and redirects are not followed.
    """
    try:
        reply = httpx.post(url, json=payload, timeout=timeout.total_seconds(), follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(type(exc).__name__) from None
    if not 200 <= reply.status_code < 300:
        raise DeliveryError(f"HTTP {reply.status_code}")
    log.info("webhook page delivered to %s", redact(url))
    return reply.status_code
