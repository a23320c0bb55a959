"""Keep-alive HTTP for Web API calls: pooled connections instead of a TCP and TLS handshake per call.

slack_sdk's WebClient opens a new connection for every call (urllib). A page, an invite, a
summary update each paid a handshake with slack.com; a burst of a thousand pages paid a thousand.
This sends the request slack_sdk built over a urllib3 pool and hands back what urllib would have:
the same status/headers/body dict, `HTTPError` for a non-2xx answer (so the 429/5xx retry
handlers see what they expect), `URLError` for a connection that could not be made or written to
(retried by the connection-error handler, as before), and a bare `TimeoutError` or reset while
waiting for the answer (the call may have happened: not retried, as before).
"""

from __future__ import annotations

import io
import ssl
from email.message import Message
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

# As many idle connections per host as the outbox sends pages in parallel (bot.escalation.delivery).
POOL_SIZE = 32


def make_pool(context: ssl.SSLContext | None) -> urllib3.PoolManager:
    # block=False: a 33rd concurrent call opens one more connection rather than waiting for one.
    return urllib3.PoolManager(num_pools=4, maxsize=POOL_SIZE, block=False, ssl_context=context)


def _headers(items: Any) -> HTTPMessage:
    message = HTTPMessage()
    for key, value in items:
        message[key] = value
    return message


def _charset(headers: Message) -> str:
    return headers.get_content_charset() or "utf-8"


def send(pool: urllib3.PoolManager, req: Request, timeout: float) -> dict[str, Any]:
    """POST `req` over the pool; answer or raise exactly as slack_sdk's urllib path does."""
    url = req.full_url
    try:
        response = pool.urlopen(
            "POST",
            url,
            body=req.data,
            headers=dict(req.header_items()),
            retries=False,  # a POST is never replayed here: slack_sdk's handlers decide
            redirect=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            preload_content=True,
        )
    except NewConnectionError as exc:  # refused, unreachable (a ConnectTimeoutError subclass)
        raise URLError(exc.__context__ or exc) from exc
    except ConnectTimeoutError as exc:
        raise URLError(TimeoutError(str(exc))) from exc
    except SSLError as exc:
        raise URLError(exc.__context__ or exc) from exc
    except ReadTimeoutError as exc:
        raise TimeoutError("timed out") from exc
    except ProtocolError as exc:  # reset or closed while sending or waiting: the inner OSError
        inner = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], OSError) else None
        raise (inner or ConnectionResetError(str(exc))) from exc
    headers = _headers(response.headers.items())
    body: bytes = response.data
    if not 200 <= response.status < 300:
        raise HTTPError(url, response.status, response.reason or "", headers, io.BytesIO(body))
    if headers.get_content_type() == "application/gzip":
        return {"status": response.status, "headers": headers, "body": body}
    return {"status": response.status, "headers": headers, "body": body.decode(_charset(headers))}
