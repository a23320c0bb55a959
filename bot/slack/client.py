"""The Slack WebClient: kept-alive connections, and the retry handlers that keep a 429 or a 5xx from losing work."""

from __future__ import annotations

from typing import Any
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

from bot.slack import transport
from bot.slack.ratelimit import GatedWebClient, SharedRateLimitHandler


class PooledWebClient(GatedWebClient):
    """The gated WebClient whose calls travel over a pool of kept-alive connections (bot.slack.transport)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pool = transport.make_pool(self.ssl)

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith(("http://", "https://")):
            return super()._perform_urllib_http_request_internal(url, req)
        return transport.send(self.pool, req, self.timeout)


def make_client(token: str | None, base_url: str, timeout: int = 15) -> WebClient:
    client = PooledWebClient(token=token, base_url=base_url, timeout=timeout)
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
