"""Keep-alive HTTP for Web API calls: libcurl connections reused across calls, little Python per call.

slack_sdk's WebClient opens a new connection for every call (urllib). A page, an invite, a
summary update each paid a handshake with slack.com; a burst of a thousand pages paid a thousand.
This sends the request slack_sdk built over pooled libcurl handles (pycurl) and hands back what
urllib would have: the same status/headers/body dict, `HTTPError` for a non-2xx answer (so the
429/5xx retry handlers see what they expect), `URLError` for a connection that could not be made
or a request that never left (retried by the connection-error handler, as before), and a bare
`TimeoutError` or reset while waiting for the answer (the call may have happened: not retried).

Why libcurl and not urllib3 (used here before): a call's HTTP work is in C and outside the GIL.
Measured on this machine, 1,000 chat.postMessage calls to the emulator cost the caller 0.13 ms of
CPU each against 0.6 ms over urllib3 and http.client (email-parser headers); in a burst of pages
the bot's one interpreter is the bottleneck, so that is most of a page's cost (bench/).
"""

from __future__ import annotations

import io
import os
import queue
import ssl
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import pycurl

# As many idle handles (each with its kept-alive connection) as the outbox sends pages in parallel
# (bot.escalation.delivery); a 33rd concurrent call makes one more handle rather than waiting.
POOL_SIZE = 32

# libcurl's codes by what they mean for the caller (see `send`).
_CONNECT = {
    pycurl.E_COULDNT_RESOLVE_PROXY,
    pycurl.E_COULDNT_RESOLVE_HOST,
    pycurl.E_COULDNT_CONNECT,
}
_TLS = {
    pycurl.E_SSL_CONNECT_ERROR,
    pycurl.E_SSL_CERTPROBLEM,
    pycurl.E_SSL_CIPHER,
    pycurl.E_SSL_CACERT,
    pycurl.E_SSL_CACERT_BADFILE,
    pycurl.E_PEER_FAILED_VERIFICATION,
}
_RESET = {pycurl.E_GOT_NOTHING, pycurl.E_RECV_ERROR, pycurl.E_SEND_ERROR, pycurl.E_PARTIAL_FILE}


def _verify_paths() -> tuple[str | None, str | None]:
    """The CA file and directory Python's own `ssl` would trust (SSL_CERT_FILE/SSL_CERT_DIR honoured)."""
    paths = ssl.get_default_verify_paths()
    cafile = os.environ.get(paths.openssl_cafile_env) or paths.cafile
    capath = os.environ.get(paths.openssl_capath_env) or paths.capath
    return cafile, capath


class CurlPool:
    """Idle libcurl handles; one call holds one handle (libcurl handles are not shared by threads)."""

    def __init__(self) -> None:
        self._idle: queue.LifoQueue[pycurl.Curl] = queue.LifoQueue()

    def take(self) -> pycurl.Curl:
        try:
            return self._idle.get_nowait()  # the most recently used: its connection is the warmest
        except queue.Empty:
            pass
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: this runs in worker threads
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.SSL_VERIFYPEER, 1)
        handle.setopt(pycurl.SSL_VERIFYHOST, 2)
        cafile, capath = _verify_paths()
        if cafile:
            handle.setopt(pycurl.CAINFO, cafile)
        if capath:
            handle.setopt(pycurl.CAPATH, capath)
        return handle

    def give_back(self, handle: pycurl.Curl) -> None:
        if self._idle.qsize() >= POOL_SIZE:
            handle.close()
        else:
            self._idle.put(handle)


def _content_type(value: str) -> tuple[str, str]:
    """The media type and charset of a Content-Type value ("application/json; charset=utf-8")."""
    media, _, params = value.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset" and val:
            charset = val.strip('"')
    return media.strip().lower(), charset


class _Headers:
    """Response header lines; a new status line (after a 100 Continue) starts the set again."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.reason = ""

    def __call__(self, raw: bytes) -> None:
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            self.items, self.reason = {}, line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        elif ":" in line:
            key, _, value = line.partition(":")
            self.items[key.strip()] = value.strip()

    def get(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.items.items() if k.lower() == name), "")

    def message(self) -> HTTPMessage:
        """As urllib's HTTPError carries them (slack_sdk reads the charset and Retry-After there)."""
        message = HTTPMessage()
        for key, value in self.items.items():
            message[key] = value
        return message


def _raise(handle: pycurl.Curl, error: pycurl.error) -> None:
    code, text = error.args[0], str(error.args[1])
    # Bytes of the request written to the socket: none means Slack cannot have seen this call.
    left = handle.getinfo(pycurl.REQUEST_SIZE) > 0
    if code in _CONNECT:
        raise URLError(ConnectionRefusedError(text) if code == pycurl.E_COULDNT_CONNECT else OSError(text))
    if code in _TLS:
        raise URLError(ssl.SSLError(text))
    if code == pycurl.E_OPERATION_TIMEDOUT:
        if not left:
            raise URLError(TimeoutError(text))
        raise TimeoutError("timed out")
    if code in _RESET:
        if not left:
            raise URLError(ConnectionResetError(text))
        raise ConnectionResetError(text)
    raise URLError(OSError(f"curl error {code}: {text}"))


def send(pool: CurlPool, req: Request, timeout: float) -> dict[str, Any]:
    """POST `req` over a pooled handle; answer or raise exactly as slack_sdk's urllib path does."""
    lines = [f"{k}: {v}" for k, v in req.header_items()]
    return post(pool, req.full_url, req.data or b"", lines, timeout)  # type: ignore[arg-type]


def post(pool: CurlPool, url: str, data: bytes, header_lines: list[str], timeout: float) -> dict[str, Any]:
    """POST `data` to `url` with `header_lines` ("Name: value"); answers and raises as `send`."""
    body = io.BytesIO()
    headers = _Headers()
    handle = pool.take()
    keep = True
    try:
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.POSTFIELDS, data)
        # "Expect:" off: a page is never held back waiting for a 100 Continue.
        handle.setopt(pycurl.HTTPHEADER, [*header_lines, "Expect:"])
        handle.setopt(pycurl.WRITEDATA, body)
        handle.setopt(pycurl.HEADERFUNCTION, headers)
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(timeout * 1000)))
        try:
            handle.perform()
        except pycurl.error as exc:
            keep = False  # whatever state its connection is in, it is not worth reusing
            _raise(handle, exc)
        status = int(handle.getinfo(pycurl.RESPONSE_CODE))
    finally:
        if keep:
            pool.give_back(handle)
        else:
            handle.close()
    answer = body.getvalue()
    if not 200 <= status < 300:
        raise HTTPError(url, status, headers.reason, headers.message(), io.BytesIO(answer))
    # A plain dict on success: slack_sdk only copies it (building an email Message cost more than the call).
    media, charset = _content_type(headers.get("Content-Type"))
    if media == "application/gzip":
        return {"status": status, "headers": headers.items, "body": answer}
    return {"status": status, "headers": headers.items, "body": answer.decode(charset)}
