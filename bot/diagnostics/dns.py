"""DNS: what a name resolves to, from the configured resolvers or a given server.

The guide's `nslookup api.ecommerce.com`, `dig api.ecommerce.com`, `host …`. Uses dnspython, so
answers come from DNS itself (like dig), with CNAME chains and TTLs, not from /etc/hosts.
An IP address gets a reverse (PTR) lookup, like `dig -x`.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from bot.diagnostics import netguard
from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Report,
    UsageError,
    format_table,
)
from bot.i18n import N_, _

TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR")
DEFAULT_TYPES = ("A", "AAAA")


def _parse(args: list[str], options: dict[str, str]) -> tuple[str, list[str], tuple[str, int] | None]:
    name = args[0].strip()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        name = netguard.validate_host(name)
        types = [t.upper() for t in args[1:]] or list(DEFAULT_TYPES)
    else:
        import dns.reversename

        name, types = dns.reversename.from_address(str(address)).to_text(), ["PTR"]
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        raise UsageError(
            _("Unknown record type `{type}`; one of {types}.", type=unknown[0], types=", ".join(TYPES))
        )
    server = None
    if "server" in options:
        target = netguard.parse_host_port(options["server"], default_port=53)
        try:
            ipaddress.ip_address(target.host)
        except ValueError as exc:
            raise UsageError(_("`server=` is the IP address of a DNS server, e.g. server=1.1.1.1.")) from exc
        server = (target.host, target.port)
    return name, types, server


def _validate(args: list[str], options: dict[str, str]) -> None:
    _parse(args, options)


def _resolver(server: tuple[str, int] | None, timeout: float) -> Any:
    import dns.resolver

    if server is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration as exc:
            raise CheckFailed(
                _("No DNS server configured on the bot's host (/etc/resolv.conf)"), Fix.DNS
            ) from exc
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def check(ctx: CheckContext) -> Report:
    import dns.exception
    import dns.resolver

    name, types, server = _parse(ctx.args, ctx.options)
    if server is not None:  # a query is a packet to that address: deny_networks applies as for tcp
        netguard.vetted_addresses(server[0], server[1], ctx.policy, builtin=False)
    resolver = _resolver(server, ctx.timeout * 0.9 / len(types))
    report = Report()
    rows: list[list[Any]] = []
    found: dict[str, list[str]] = {}
    for rtype in types:
        started = time.perf_counter()
        try:
            answer = resolver.resolve(name, rtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            raise CheckFailed(_("{name} does not exist (NXDOMAIN)", name=name), Fix.DNS) from exc
        except dns.resolver.NoNameservers as exc:
            raise CheckFailed(
                _("No DNS server could answer for {name} (SERVFAIL or refused)", name=name), Fix.DNS
            ) from exc
        except dns.exception.Timeout as exc:
            raise CheckFailed(
                _("DNS server did not answer for {name} ({type})", name=name, type=rtype), Fix.DNS
            ) from exc
        elapsed = (time.perf_counter() - started) * 1000
        chain = [r for r in (answer.response.answer if answer.response else []) if r.rdtype != answer.rdtype]
        for rrset in chain:  # CNAMEs on the way, as dig shows them
            rows += [[rrset.name.to_text(), rrset.ttl, "CNAME", item.to_text()] for item in rrset]
        values = [item.to_text() for item in answer.rrset] if answer.rrset else []
        rows += (
            [[answer.rrset.name.to_text(), answer.rrset.ttl, rtype, v] for v in values]
            if answer.rrset
            else []
        )
        found[rtype] = values
        if values:
            shown = ", ".join(values[:6]) + (f" (+{len(values) - 6})" if len(values) > 6 else "")
            report.ok(f"{rtype} {shown} ({elapsed:.1f} ms)")
    if not any(found.values()):
        report.warn(_("{name} exists but has no {types} records", name=name, types="/".join(types)), Fix.DNS)
    via = f"{server[0]}:{server[1]}" if server else ", ".join(resolver.nameservers)
    report.detail = f"; {name} via {via}\n" + format_table(
        ["name", "ttl", "type", "value"], rows, max_width=100
    )
    report.data = {"name": name, "server": via, "records": found}
    return report


ADAPTER = Adapter(
    name="dns",
    summary=N_("DNS resolution (A/AAAA by default, any type on request, PTR for an IP)"),
    timeout_fix=Fix.DNS,
    default_check="lookup",
    checks={
        "lookup": Check(
            "lookup",
            check,
            N_("resolve a name (or reverse-resolve an IP)"),
            usage="<name|ip> [type…] [server=ip]",
            guide="dig <name>; nslookup <name>",
            min_args=1,
            max_args=1 + len(TYPES),
            options=("server",),
            validate=_validate,
        )
    },
)
