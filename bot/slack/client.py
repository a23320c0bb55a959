"""The Slack WebClient, with the retry handlers that keep a 429 or a 5xx from losing work."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

from bot.slack.ratelimit import GatedWebClient, SharedRateLimitHandler


def make_client(token: str | None, base_url: str, timeout: int = 15) -> WebClient:
    client = GatedWebClient(token=token, base_url=base_url, timeout=timeout)
    # Retry-After is honoured per method for the whole process (bot.slack.ratelimit); 5xx and resets
    # get a few backed-off tries.
    client.retry_handlers.extend(
        [
            SharedRateLimitHandler(client.gates, max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client
