"""HTTP: status and DNS / connect / TLS / first-byte / total times in ms, like the guide's
`curl -o /dev/null -s -w "%{time_connect} %{time_starttransfer} %{time_total}"` and `curl -I`.

Built on httpcore (httpx's engine) with our own network backend, so the name is resolved once,
every address is vetted by netguard, and the socket goes to exactly that address; no proxy from
the environment and no redirects are followed (a 3xx is reported with its Location, like curl).
"""

from __future__ import annotations

import base64
import functools
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.config.policy import Policy
from bot.diagnostics import netguard
from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Level,
    Report,
    UsageError,
    format_pairs,
    parse_seconds,
)
from bot.i18n import N_, _
from bot.security.redact import MASK

BODY_LIMIT = 64 * 1024
SLOW_SECONDS = 1.0  # the guide's long_query_time; a health URL slower than that is worth a look
STATUS_FIXES = {500: Fix.HTTP_500, 502: Fix.HTTP_502, 503: Fix.HTTP_503, 504: Fix.HTTP_504, 404: Fix.HTTP_404}
METHODS = ("GET", "HEAD")


@dataclass
class Timings:
    started: float = field(default_factory=time.perf_counter)
    marks: dict[str, float] = field(default_factory=dict)  # ms since start
    address: str | None = None

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, (time.perf_counter() - self.started) * 1000)

    def span(self, start: str, end: str) -> float | None:
        if start in self.marks and end in self.marks:
            return self.marks[end] - self.marks[start]
        return None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: when TLS and response headers begin and end."""
        names = {
            "connection.start_tls.started": "tls_start",
            "connection.start_tls.complete": "tls_end",
            "http11.receive_response_headers.complete": "first_byte",
        }
        if event in names:
            self.mark(names[event])


def _backend(policy: Policy, timings: Timings) -> Any:
    import httpcore

    class GuardedBackend(httpcore.SyncBackend):  # type: ignore[misc]
        """Resolve once, vet every address, connect to the vetted address itself."""

        def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kwargs: Any) -> Any:
            timings.mark("dns_start")
            addresses = netguard.vetted_addresses(host, port, policy)
            timings.mark("dns_end")
            last: Exception | None = None
            for address in addresses:
                try:
                    stream = super().connect_tcp(str(address), port, timeout, **kwargs)
                except httpcore.ConnectError as exc:
                    last = exc
                    continue
                timings.address = str(address)
                timings.mark("connect_end")
                return stream
            raise last or httpcore.ConnectError(f"no address for {host}")

    return GuardedBackend()


def parse_url(raw: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, url) of an http(s) URL, or a UsageError saying what is wrong."""
    url = raw if "://" in raw else f"http://{raw}"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced [ or ] reads as a broken IPv6 literal
        raise UsageError(
            _(
                "`{raw}` is not a URL Warroom can read: write it like https://shop.example.com/health.",
                raw=raw,
            )
        ) from exc
    if parts.scheme not in ("http", "https"):
        raise UsageError(_("`{raw}` is not an http:// or https:// URL.", raw=raw))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(_("`{raw}` has an invalid port.", raw=raw)) from exc
    return parts.scheme, netguard.validate_host(parts.hostname or ""), port, url


def _validate(args: list[str], options: dict[str, str]) -> None:
    parse_url(args[0])
    if options.get("method", "GET").upper() not in METHODS:
        raise UsageError(
            _("`method=` is one of {methods} (diagnostics are read-only).", methods=", ".join(METHODS))
        )
    if "expect" in options and not (options["expect"].isdigit() and 100 <= int(options["expect"]) <= 599):
        raise UsageError(_("`expect=` is an HTTP status such as 200."))
    if "slow" in options:
        parse_seconds("slow", options["slow"])


def _headers(url: str, host: str, port: int, scheme: str) -> list[tuple[bytes, bytes]]:
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    authority = f"[{host}]" if ":" in host else host
    headers = [
        (b"Host", (authority if default else f"{authority}:{port}").encode()),
        (b"User-Agent", b"warroom-diag/1"),
        (b"Accept", b"*/*"),
    ]
    parts = urlsplit(url)
    if parts.username is not None:  # curl-style user:pass@ becomes Basic auth; it is masked in all output
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers.append((b"Authorization", b"Basic " + base64.b64encode(token)))
    return headers


@functools.cache
def tls_context(*, insecure: bool) -> ssl.SSLContext:
    """Built once: loading the system's CA bundle costs ~20 ms, more than a local request."""
    context = ssl.create_default_context()
    if insecure:  # like curl -k, on request only
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def fetch(ctx: CheckContext) -> dict[str, Any]:
    import httpcore

    scheme, host, port, url = parse_url(ctx.arg(0, "URL"))
    method = (ctx.option("method") or "GET").upper()
    tls = tls_context(insecure=ctx.option("insecure", "no") in ("yes", "true", "1"))
    timings = Timings()
    # A little longer than the runner's deadline, so the runner reports the timeout as such.
    limit = ctx.timeout + 0.5
    target = urlsplit(url)._replace(netloc=f"[{host}]:{port}" if ":" in host else f"{host}:{port}").geturl()
    pool = httpcore.ConnectionPool(ssl_context=tls, network_backend=_backend(ctx.policy, timings))
    extensions = {
        "timeout": dict.fromkeys(("connect", "read", "write", "pool"), limit),
        "trace": timings.trace,
    }
    try:
        with (
            pool,
            pool.stream(
                method, target, headers=_headers(url, host, port, scheme), extensions=extensions
            ) as response,
        ):
            timings.mark("first_byte")
            body = b""
            for chunk in response.iter_stream():
                body += chunk
                if len(body) >= BODY_LIMIT:
                    break
            timings.mark("total")
    except httpcore.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise CheckFailed(
                _(
                    "TLS certificate of {address} is not trusted: {reason}. "
                    "Details: `/diag tls {address}`; skip the check with insecure=yes",
                    address=f"{host}:{port}",
                    reason=_reason(exc),
                ),
                Fix.TLS_TRUST,
            ) from exc
        raise CheckFailed(
            _("Can't connect to {address}: {reason}", address=f"{host}:{port}", reason=_reason(exc)),
            Fix.HTTP_502,
        ) from exc
    except (httpcore.ConnectTimeout, httpcore.ReadTimeout, httpcore.WriteTimeout) as exc:
        raise CheckFailed(
            _("{address} did not answer within {limit} s", address=f"{host}:{port}", limit=f"{limit:g}"),
            Fix.HTTP_TIMEOUT,
        ) from exc
    except httpcore.RemoteProtocolError as exc:
        raise CheckFailed(
            _("{address} broke the HTTP exchange: {reason}", address=f"{host}:{port}", reason=_reason(exc)),
            Fix.HTTP_502,
        ) from exc
    return {
        "url": url,
        "method": method,
        "status": response.status,
        "reason": response.extensions.get("reason_phrase", b"").decode("latin-1"),
        "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers],
        "body": body[:BODY_LIMIT],
        "timings": timings,
    }


def _reason(exc: BaseException) -> str:
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(exc))  # OpenSSL's source line helps nobody on call
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return text.rsplit("failed:", 1)[-1].strip(" ()")
    for known in ("Connection refused", "No route to host", "Network is unreachable", "Connection reset"):
        if known.lower() in text.lower():
            return known.lower()
    return " ".join(text.split()) or type(exc).__name__


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def timing_figures(timings: Timings) -> dict[str, float | None]:
    return {
        "dns_ms": timings.span("dns_start", "dns_end"),
        "connect_ms": timings.span("dns_end", "connect_end"),
        "tls_ms": timings.span("tls_start", "tls_end"),
        "first_byte_ms": timings.marks.get("first_byte"),
        "total_ms": timings.marks.get("total"),
    }


def evaluate(
    status: int, reason: str, figures: dict[str, float | None], *, expect: int | None, slow: float
) -> Report:
    report = Report()
    line = f"HTTP {status} {reason}".strip()
    if expect is not None and status != expect:
        report.crit(
            _("{line}, expected {expect}", line=line, expect=expect), STATUS_FIXES.get(status, Fix.HTTP_502)
        )
    elif status >= 500:
        report.crit(line, STATUS_FIXES.get(status, Fix.HTTP_500))
    elif status >= 400:
        report.warn(line, STATUS_FIXES.get(status))
    else:
        report.ok(line)
    total = figures["total_ms"] or 0.0
    times = _(
        "DNS {dns} · connect {connect} · TLS {tls} · first byte {first_byte} · total {total}",
        dns=ms(figures["dns_ms"]),
        connect=ms(figures["connect_ms"]),
        tls=ms(figures["tls_ms"]),
        first_byte=ms(figures["first_byte_ms"]),
        total=ms(figures["total_ms"]),
    )
    report.add(Level.WARN if total >= slow * 1000 else Level.OK, times, Fix.SLOW_RESPONSE)
    return report


def get(ctx: CheckContext) -> Report:
    result = fetch(ctx)
    timings: Timings = result["timings"]
    figures = timing_figures(timings)
    expect = int(ctx.options["expect"]) if "expect" in ctx.options else None
    report = evaluate(
        result["status"],
        result["reason"],
        figures,
        expect=expect,
        slow=ctx.seconds_option("slow", SLOW_SECONDS),
    )
    headers = {k.lower(): v for k, v in result["headers"]}
    if 300 <= result["status"] < 400 and "location" in headers:
        report.ok(_("Redirects to {location} (not followed)", location=headers["location"]))
    shown = [
        f"{k}: {MASK if k.lower() in ('set-cookie', 'authorization') else v}" for k, v in result["headers"]
    ]
    body = result["body"].decode("utf-8", "replace")
    report.detail = "\n".join(
        [
            f"{result['method']} {result['url']} → {result['status']} {result['reason']} (address {timings.address})",
            "",
            format_pairs(
                [
                    ("time_namelookup", ms(figures["dns_ms"])),
                    ("time_connect", ms(figures["connect_ms"])),
                    ("time_tls", ms(figures["tls_ms"])),
                    ("time_starttransfer", ms(figures["first_byte_ms"])),
                    ("time_total", ms(figures["total_ms"])),
                ]
            ),
            "(namelookup, connect, tls: each phase; starttransfer and total: since the start, like curl)",
            "",
            *shown,
            "",
            body[:2000] + ("…" if len(body) > 2000 else ""),
        ]
    )
    report.data = {
        "status": result["status"],
        "address": timings.address,
        **{k: v and round(v, 1) for k, v in figures.items()},
    }
    return report


ADAPTER = Adapter(
    name="http",
    summary=N_("HTTP status and DNS / connect / TLS / first-byte / total times"),
    timeout_fix=Fix.HTTP_TIMEOUT,
    default_check="get",
    checks={
        "get": Check(
            "get",
            get,
            N_("fetch a URL: status and timings in ms (no redirects followed)"),
            usage="<url> [method=GET|HEAD] [expect=200] [slow=1s] [insecure=yes]",
            guide="curl -o /dev/null -s -w '%{time_connect} %{time_starttransfer} %{time_total}' <url>",
            min_args=1,
            max_args=1,
            options=("method", "expect", "slow", "insecure"),
            validate=_validate,
        )
    },
)
