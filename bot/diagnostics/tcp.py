"""TCP: is the port reachable? The guide's `nc -zv host 80 443` and `telnet host 3306`.

Refused (nothing listens, or a firewall rejects) and no answer (dropped by a firewall, host down)
are different problems with different fixes, so they are reported separately.
"""

from __future__ import annotations

import time

from bot.diagnostics import netguard
from bot.diagnostics.base import Adapter, Check, CheckContext, Fix, Report, UsageError, format_table
from bot.i18n import N_, _

MAX_PORTS = 10


def parse_target(args: list[str]) -> tuple[str, list[int]]:
    """`host port…` or `host:port` (nc's and telnet's forms) → (host, ports)."""
    if len(args) == 1:
        target = netguard.parse_host_port(args[0])
        return target.host, [target.port]
    host = netguard.validate_host(args[0])
    ports = [netguard.parse_port(p) for p in args[1:]]
    if len(ports) > MAX_PORTS:
        raise UsageError(_("At most {n} ports per run.", n=MAX_PORTS))
    return host, ports


def _validate(args: list[str], options: dict[str, str]) -> None:
    parse_target(args)


def probe(address: netguard.IPAddress, port: int, timeout: float) -> tuple[str, float]:
    """(state, ms): open, refused, timeout, or the OS's reason."""
    started = time.perf_counter()
    try:
        netguard.connect(address, port, timeout).close()
        state = "open"
    except ConnectionRefusedError:
        state = "refused"
    except TimeoutError:
        state = "timeout"
    except OSError as exc:
        state = (exc.strerror or type(exc).__name__).lower()
    return state, (time.perf_counter() - started) * 1000


def check(ctx: CheckContext) -> Report:
    host, ports = parse_target(ctx.args)
    addresses = netguard.vetted_addresses(host, ports[0], ctx.policy)
    # Leave the runner a margin, so a filtered port is reported as such rather than as a timeout.
    budget = ctx.timeout * 0.9 / len(ports)
    report = Report()
    rows = []
    for port in ports:
        state, elapsed, used = "timeout", 0.0, addresses[0]
        for address in addresses:  # like nc: the first address that answers
            state, elapsed = probe(address, port, budget / len(addresses))
            used = address
            if state == "open":
                break
        where = f"{host}:{port}" if host == str(used) else f"{host}:{port} ({used})"
        rows.append([port, str(used), state, f"{elapsed:.1f} ms"])
        if state == "open":
            report.ok(_("{where} is open ({ms} ms to connect)", where=where, ms=f"{elapsed:.1f}"))
        elif state == "refused":
            report.crit(
                _("{where}: connection refused (nothing listening, or rejected)", where=where), Fix.NETWORK
            )
        elif state == "timeout":
            report.crit(
                _(
                    "{where}: no answer within {limit} s (filtered by a firewall, or host down)",
                    where=where,
                    limit=f"{budget:.1f}",
                ),
                Fix.NETWORK,
            )
        else:
            report.crit(f"{where}: {state}", Fix.NETWORK)
    addresses_text = ", ".join(str(a) for a in addresses)
    report.detail = f"{host} → {addresses_text}\n\n" + format_table(
        ["port", "address", "state", "time"], rows
    )
    report.data = {"host": host, "ports": {str(row[0]): row[2] for row in rows}}
    return report


ADAPTER = Adapter(
    name="tcp",
    summary=N_("TCP port reachability"),
    timeout_fix=Fix.NETWORK,
    default_check="port",
    checks={
        "port": Check(
            "port",
            check,
            N_("connect to host:port — open, refused or no answer"),
            usage="<host> <port> [port…] | <host:port>",
            guide="nc -zv <host> <port>",
            min_args=1,
            max_args=MAX_PORTS + 1,
            options=(),
            validate=_validate,
        )
    },
)
