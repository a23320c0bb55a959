"""Slack's 429s honoured per method, across every thread of the process.

Slack rate-limits each Web API method on its own (chat.postMessage's tier is not pins.add's) and
answers 429 with Retry-After. slack_sdk's handler only makes the one call that got the 429 sleep; the
other 31 page senders would go on calling the same method and collect 429s of their own. Here a 429
closes that method's gate for Retry-After seconds for everyone, while other methods keep going.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

MAX_WAIT = 60.0  # a Retry-After beyond this is clipped: a page must still leave eventually


class MethodGates:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def hold(self, method: str, seconds: float) -> None:
        until = time.monotonic() + min(max(seconds, 0.0), MAX_WAIT)
        with self._lock:
            self._until[method] = max(self._until.get(method, 0.0), until)

    def wait(self, method: str) -> float:
        """Sleep until `method` may be called again; returns how long it slept."""
        with self._lock:
            until = self._until.get(method, 0.0)
        pause = until - time.monotonic()
        if pause <= 0:
            return 0.0
        time.sleep(pause)
        return pause


def _method(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _retry_after(response: HttpResponse) -> float:
    for key, values in response.headers.items():
        if key.lower() == "retry-after":
            try:
                return float(values[0] if isinstance(values, list) else values)
            except (TypeError, ValueError):
                break
    return 1.0


class SharedRateLimitHandler(RateLimitErrorRetryHandler):
    """Retry a 429 after Retry-After, and close the method's gate for every other caller meanwhile."""

    def __init__(self, gates: MethodGates, max_retry_count: int = 5):
        super().__init__(max_retry_count=max_retry_count)
        self.gates = gates

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        method = _method(request)
        # A little jitter so the callers released together do not all hit the limit again at once.
        self.gates.hold(method, _retry_after(response) + random.random() * 0.2)
        state.next_attempt_requested = True
        self.gates.wait(method)
        state.increment_current_attempt()


class GatedWebClient(WebClient):
    """A WebClient that waits at a method's gate before calling it."""

    def __init__(self, *args: Any, gates: MethodGates | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gates = gates or MethodGates()

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.gates.wait(api_method)
        return super().api_call(api_method, **kwargs)
