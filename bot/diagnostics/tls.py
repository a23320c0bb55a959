"""TLS: certificate expiry and trust for host:port (default 443).

The handshake verifies like a browser would. When verification fails (self-signed, expired,
wrong name) the reason is a finding, and a second, unverified handshake still reads the
certificate so the expiry date is reported anyway. The certificate's dates and names are read
from its DER bytes here, so the bot needs no X.509 library.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.diagnostics import netguard
from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Report,
    UsageError,
    format_pairs,
)
from bot.i18n import N_, _

HANDSHAKE_FIX = N_(
    "Compare the server's TLS versions, ciphers and certificate setup with `openssl s_client -connect "
    "<host>:<port>`; check a proxy or load balancer in between"
)
WARN_DAYS = 30
CRIT_DAYS = 7
_OIDS = {bytes.fromhex("550403"): "CN", bytes.fromhex("55040a"): "O"}


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length


def _children(data: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos < len(data):
        tag, value, pos = _tlv(data, pos)
        yield tag, value


def _name(data: bytes) -> str:
    parts = []
    for _set_tag, rdn in _children(data):
        for _seq_tag, pair in _children(rdn):
            (_tag, oid), (_tag2, value) = list(_children(pair))[:2]
            if oid in _OIDS:
                parts.append(f"{_OIDS[oid]}={value.decode('utf-8', 'replace')}")
    return ", ".join(parts) or "(no CN)"


def _time(tag: int, value: bytes) -> datetime:
    text = value.decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"  # UTCTime or GeneralizedTime
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def parse_certificate(der: bytes) -> CertInfo:
    """Subject, issuer and validity of a DER X.509 certificate (RFC 5280 §4.1)."""
    _start, certificate, _end = _tlv(der, 0)
    _tag, tbs = next(_children(certificate))
    fields = list(_children(tbs))
    if fields[0][0] == 0xA0:  # explicit version tag; v1 certificates omit it
        fields = fields[1:]
    issuer, validity, subject = fields[2][1], fields[3][1], fields[4][1]
    (tag_from, not_before), (tag_to, not_after) = list(_children(validity))
    return CertInfo(_name(subject), _name(issuer), _time(tag_from, not_before), _time(tag_to, not_after))


def _handshake(
    address: netguard.IPAddress, host: str, port: int, context: ssl.SSLContext, timeout: float
) -> tuple[bytes, str, str]:
    sock = netguard.connect(address, port, timeout)
    try:
        # The name, not the address: SNI and the name check need it (an IP literal is checked as an IP).
        with context.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True) or b""
            cipher = tls.cipher()
            return der, tls.version() or "?", cipher[0] if cipher else "?"
    finally:
        sock.close()


def _ssl_reason(exc: OSError) -> str:
    return getattr(exc, "reason", None) or exc.strerror or " ".join(str(exc).split())


def _plain_protocol(address: netguard.IPAddress, port: int, timeout: float) -> str | None:
    """What a port that failed the TLS handshake speaks instead, when it says so: a plain HTTP server
    answers a request line; SSH, SMTP, FTP, MySQL and Redis greet or answer in the clear."""
    try:
        sock = netguard.connect(address, port, timeout)
    except OSError:
        return None
    try:
        sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
        head = sock.recv(64)
    except OSError:
        return None
    finally:
        sock.close()
    if head.startswith(b"HTTP/"):
        return _("plain HTTP (try `/diag http http://…` instead)")
    for prefix, name in ((b"SSH-", "SSH"), (b"220", "SMTP / FTP"), (b"-ERR", "Redis"), (b"+OK", "POP3")):
        if head.startswith(prefix):
            return _("{protocol} in the clear", protocol=name)
    if len(head) > 4 and head[4] == 0x0A:  # a MySQL handshake packet: 3-byte length, sequence 0, protocol 10
        return _("the MySQL protocol")
    return None


def _validate(args: list[str], options: dict[str, str]) -> None:
    netguard.parse_host_port(args[0], default_port=443)
    if "days" in options and not options["days"].isdigit():
        raise UsageError(_("`days=` is a whole number of days, e.g. days=30."))


def check(ctx: CheckContext) -> Report:
    target = netguard.parse_host_port(ctx.arg(0, N_("host")), default_port=443)
    warn_days = ctx.int_option("days", WARN_DAYS, low=1, high=3650)
    address = netguard.vetted_addresses(target.host, target.port, ctx.policy)[0]
    timeout = ctx.timeout * 0.45  # two handshakes may be needed; both fit inside the runner's deadline
    report = Report()
    verify_error: str | None = None
    try:
        der, version, cipher = _handshake(
            address, target.host, target.port, ssl.create_default_context(), timeout
        )
    except ssl.SSLCertVerificationError as exc:
        verify_error = exc.verify_message or str(exc)
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        der, version, cipher = _handshake(address, target.host, target.port, insecure, timeout)
    except ConnectionRefusedError as exc:
        raise CheckFailed(_("{address}: connection refused", address=target.display), Fix.NETWORK) from exc
    except (ssl.SSLError, ConnectionResetError) as exc:  # the other end does not speak TLS, or not well
        speaks = _plain_protocol(address, target.port, timeout)
        if speaks is not None:
            raise CheckFailed(
                _("{address} speaks {protocol}, not TLS", address=target.display, protocol=speaks),
                Fix.NOT_TLS,
            ) from exc
        raise CheckFailed(
            _("{address}: TLS handshake failed: {reason}", address=target.display, reason=_ssl_reason(exc)),
            HANDSHAKE_FIX,
        ) from exc
    except TimeoutError as exc:
        raise CheckFailed(
            _(
                "{address}: no answer to the TLS handshake within {limit} s",
                address=target.display,
                limit=f"{timeout:.1f}",
            ),
            Fix.NETWORK,
        ) from exc
    except OSError as exc:
        raise CheckFailed(
            _(
                "{address}: TLS handshake failed: {reason}",
                address=target.display,
                reason=exc.strerror or exc,
            ),
            Fix.NETWORK,
        ) from exc
    cert = parse_certificate(der)
    now = datetime.now(UTC)
    days = (cert.not_after - now).total_seconds() / 86400
    until = f"{cert.not_after:%Y-%m-%d %H:%M} UTC"
    if days < 0:
        report.crit(
            _("Certificate expired {days} days ago ({until})", days=f"{-days:.0f}", until=until),
            Fix.TLS_EXPIRY,
        )
    elif days <= CRIT_DAYS:
        report.crit(
            _("Certificate expires in {days} days ({until})", days=f"{days:.1f}", until=until), Fix.TLS_EXPIRY
        )
    elif days <= warn_days:
        report.warn(
            _("Certificate expires in {days} days ({until})", days=f"{days:.0f}", until=until), Fix.TLS_EXPIRY
        )
    else:
        report.ok(
            _("Certificate valid for {days} more days (until {until})", days=f"{days:.0f}", until=until)
        )
    if verify_error:
        report.crit(_("Not trusted: {reason}", reason=verify_error), Fix.TLS_TRUST)
    else:
        report.ok(_("Trusted chain for {host} ({version})", host=target.host, version=version))
    report.detail = format_pairs(
        [
            ("host", f"{target.display} ({address})"),
            ("subject", cert.subject),
            ("issuer", cert.issuer),
            ("not before", f"{cert.not_before:%Y-%m-%d %H:%M} UTC"),
            ("not after", until),
            ("days left", f"{days:.1f}"),
            ("verification", verify_error or "ok"),
            ("protocol", f"{version} {cipher}"),
        ]
    )
    report.data = {
        "days_left": round(days, 2),
        "not_after": cert.not_after.isoformat(),
        "trusted": verify_error is None,
    }
    return report


ADAPTER = Adapter(
    name="tls",
    summary=N_("TLS certificate expiry and trust"),
    timeout_fix=Fix.NETWORK,
    default_check="cert",
    checks={
        "cert": Check(
            "cert",
            check,
            N_("certificate expiry (≤ 30 days warns, ≤ 7 critical) and trust"),  # WARN_DAYS, CRIT_DAYS
            usage="<host[:port]> [days=30]",
            guide="openssl s_client -connect <host>:443 | openssl x509 -noout -enddate",
            min_args=1,
            max_args=1,
            options=("days",),
            validate=_validate,
        )
    },
)
