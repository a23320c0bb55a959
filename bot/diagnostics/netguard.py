"""Address safety for checks that open connections (http, tcp, tls): parse, resolve, refuse.

Link-local and cloud-metadata addresses are refused unless `diagnostics.allow_networks` covers
them. The check runs on the RESOLVED addresses, and callers connect to exactly the addresses
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

from bot.diagnostics.base import CheckFailed, CheckRefused, Fix, UsageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED: tuple[tuple[IPNetwork, str], ...] = (
    (ipaddress.ip_network("169.254.0.0/16"), "link-local / cloud metadata"),
    (ipaddress.ip_network("fe80::/10"), "IPv6 link-local"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "AWS metadata (IPv6)"),
    (ipaddress.ip_network("100.100.100.200/32"), "Alibaba Cloud metadata"),
)

_HOW_TO_ALLOW = "add it to `diagnostics.allow_networks` in the YAML if this is intended"
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
        raise UsageError(f"`{text}` is not a port (1–65535).")
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
        raise UsageError(f"`{host}` is not a valid host name or IP address.")
    return name.lower()


def parse_host_port(text: str, default_port: int | None = None) -> HostPort:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 literal."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise UsageError(f"`{text}` is not host:port.")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a name, or an IPv6 literal without a port
    if port_text:
        return HostPort(validate_host(host), parse_port(port_text))
    if default_port is None:
        raise UsageError(f"`{text}` needs a port, e.g. `{host}:443`.")
    return HostPort(validate_host(host), default_port)


def _embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv4-mapped, 6to4 or NAT64 (64:ff9b::/96) IPv6 address."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why this address is refused, or None when it may be reached."""
    candidates = [address]
    embedded = _embedded_v4(address)
    if embedded is not None:
        candidates.append(embedded)
    allow = list(allow)
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in allow):
            return None
        for network, label in BLOCKED:
            if candidate.version == network.version and candidate in network:
                return f"{label} ({network})"
    return None


def allowed_networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


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
        raise CheckFailed(f"{host} does not resolve: {exc.strerror}", Fix.DNS) from exc
    seen: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    return seen


def vetted_addresses(host: str, port: int, allow_cidrs: Iterable[str]) -> list[IPAddress]:
    """Resolve and refuse if ANY address is forbidden: a name mixing safe and metadata answers is suspect."""
    allow = allowed_networks(allow_cidrs)
    literal = _literal(host)
    if literal is not None and (reason := blocked_reason(literal, allow)):
        raise CheckRefused(f"{host} is {reason}; {_HOW_TO_ALLOW}")
    addresses = resolve(host, port)
    for address in addresses:
        reason = blocked_reason(address, allow)
        if reason:
            raise CheckRefused(f"{host} resolves to {address}, {reason}; {_HOW_TO_ALLOW}")
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
