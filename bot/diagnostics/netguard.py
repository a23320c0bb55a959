"""Address safety for checks that open connections (http, tcp, tls, dns server=): parse, resolve, refuse.

Link-local and cloud-metadata addresses are always refused, and so is whatever the policy lists
in `diagnostics.deny_networks` (the shipped deploy policies deny loopback and private ranges),
unless `diagnostics.allow_networks` makes an explicit exception. Every IPv4 address an IPv6
address embeds (mapped, compatible, 6to4, NAT64, Teredo, ISATAP) is judged too. The check runs on the RESOLVED addresses, and callers connect to exactly the addresses
vetted here, so neither a DNS name pointing at 169.254.169.254 nor a second lookup that answers
differently (DNS rebinding) gets through. Odd spellings (2852039166, 0xa9fea9fe,
::ffff:169.254.169.254) resolve to the same address and are refused the same way.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config.policy import Policy
from bot.diagnostics.base import CheckFailed, CheckRefused, Fix, UsageError
from bot.i18n import N_, _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED: tuple[tuple[IPNetwork, str], ...] = (
    (ipaddress.ip_network("169.254.0.0/16"), N_("link-local / cloud metadata")),
    (ipaddress.ip_network("fe80::/10"), N_("IPv6 link-local")),
    (ipaddress.ip_network("fd00:ec2::254/128"), N_("AWS metadata (IPv6)")),
    (ipaddress.ip_network("100.100.100.200/32"), N_("Alibaba Cloud metadata")),
)

_HOW_TO_ALLOW = N_(
    "diagnostics may not reach it. If this is intended, an admin can add it to "
    "`diagnostics.allow_networks` in the YAML policy"
)
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class HostPort:
    host: str  # hostname or IP literal, without brackets
    port: int

    @property
    def display(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UsageError(_("`{text}` is not a port (1–65535).", text=text))
    return int(text)


def validate_host(host: str) -> str:
    """A hostname (RFC 1123 labels) or an IP literal; anything else is refused before any lookup."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise UsageError(_("`{host}` is not a valid host name or IP address.", host=host))
    return name.lower()


def parse_host_port(text: str, default_port: int | None = None) -> HostPort:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 literal."""
    text = text.strip()
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise UsageError(_("`{text}` is not host:port.", text=text))
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a name, or an IPv6 literal without a port
    if port_text:
        return HostPort(validate_host(host), parse_port(port_text))
    if default_port is None:
        raise UsageError(_("`{text}` needs a port, e.g. `{host}:443`.", text=text, host=host))
    return HostPort(validate_host(host), default_port)


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_V4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)  # interface id ::0:5efe:a.b.c.d / ::200:5efe:a.b.c.d
_LOOPBACK_V4 = ipaddress.IPv4Address("127.0.0.1")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")


def _low32(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def embedded_v4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address may lead to: mapped, compatible, translated, 6to4, NAT64,
    Teredo (server and client) and ISATAP. A guard that checks only the IPv6 form lets
    http://[::169.254.169.254]/ through on hosts that route these forms to IPv4."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _V4_COMPATIBLE and int(address) > 1:  # not :: and ::1, which are IPv6's own
        found.append(_low32(address))
    if address in _V4_TRANSLATED or any(address in net for net in _NAT64):
        found.append(_low32(address))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if (int(address) >> 32) & 0xFFFFFFFF in _ISATAP_IDS:
        found.append(_low32(address))
    return found


def _aliases(address: IPAddress) -> list[IPAddress]:
    """The address itself, what it embeds, and loopback for the unspecified address (0.0.0.0 and ::
    reach this host on Linux)."""
    candidates: list[IPAddress] = [address, *embedded_v4(address)]
    if address.is_unspecified or (address.version == 4 and address in ipaddress.ip_network("0.0.0.0/8")):
        candidates.append(_LOOPBACK_V4 if address.version == 4 else _LOOPBACK_V6)
        candidates.append(_LOOPBACK_V6 if address.version == 4 else _LOOPBACK_V4)
    return candidates


@dataclass(frozen=True)
class Rules:
    """What may be reached: `allow` (explicit exceptions) beats the built-in blocks and `deny`."""

    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = ()


def rules_for(policy: Policy, host: str | None = None, port: int | None = None) -> Rules:
    """The policy's rules for one host and port. The host:port of a service's `health_url` is the policy
    author's own choice, so `deny_networks` does not apply to it (link-local and metadata still do)."""
    config = policy.diagnostics
    configured = host is not None and (host.lower().rstrip("."), port) in configured_endpoints(policy)
    return Rules(networks(config.allow_networks), () if configured else networks(config.deny_networks))


def configured_endpoints(policy: Policy) -> set[tuple[str, int | None]]:
    """(host, port) of every `services.*.health_url`."""
    found: set[tuple[str, int | None]] = set()
    for service in policy.services.values():
        if not service.health_url:
            continue
        url = service.health_url if "://" in service.health_url else f"http://{service.health_url}"
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        if parts.hostname:
            found.add((parts.hostname.lower().rstrip("."), port))
    return found


def _covered(address: IPAddress, nets: Iterable[IPNetwork]) -> IPNetwork | None:
    return next((net for net in nets if address.version == net.version and address in net), None)


def blocked_reason(address: IPAddress, rules: Rules = Rules(), *, builtin: bool = True) -> str | None:
    """Why this address is refused, or None when it may be reached. Every alias is judged: an
    IPv6 spelling of a denied IPv4 address is denied."""
    candidates = _aliases(address)
    if all(_covered(candidate, rules.allow) for candidate in candidates):
        return None
    for candidate in candidates:
        if _covered(candidate, rules.allow):
            continue
        for network, label in BLOCKED if builtin else ():
            if candidate.version == network.version and candidate in network:
                return _label(address, candidate, f"{_(label)} ({network})")
        denied = _covered(candidate, rules.deny)
        if denied is not None:
            return _label(address, candidate, _("in `diagnostics.deny_networks` ({network})", network=denied))
    return None


def _label(address: IPAddress, candidate: IPAddress, reason: str) -> str:
    return (
        reason
        if candidate == address
        else _("{reason}, embedded as {address}", reason=reason, address=candidate)
    )


def networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses of `host`, in the resolver's order; a CheckFailed when it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    # getaddrinfo has no timeout of its own; the runner's deadline bounds the whole check.
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CheckFailed(
            _("{host} does not resolve: {error}", host=host, error=exc.strerror), Fix.DNS
        ) from exc
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    return seen


def vetted_addresses(host: str, port: int, policy: Policy, *, builtin: bool = True) -> list[IPAddress]:
    """Resolve and refuse if ANY address is forbidden: a name mixing safe and metadata answers is suspect.
    `builtin=False` skips the link-local/metadata block (DNS servers: the AWS resolver is 169.254.169.253)."""
    rules = rules_for(policy, host, port)
    literal = _literal(host)
    if literal is not None and (reason := blocked_reason(literal, rules, builtin=builtin)):
        raise CheckRefused(_("{host} is {reason}; {how}", host=host, reason=reason, how=_(_HOW_TO_ALLOW)))
    addresses = resolve(host, port)
    for address in addresses:
        reason = blocked_reason(address, rules, builtin=builtin)
        if reason:
            raise CheckRefused(
                _(
                    "{host} resolves to {address}, {reason}; {how}",
                    host=host,
                    address=address,
                    reason=reason,
                    how=_(_HOW_TO_ALLOW),
                )
            )
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def connect(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """A TCP connection to one vetted address (never re-resolving the name)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock
