"""ping without raw sockets: the guide's `ping -c 4 host` (基础网络检查).

ICMP echo over an unprivileged ICMP datagram socket (SOCK_DGRAM + IPPROTO_ICMP, Linux) where
`net.ipv4.ping_group_range` includes the bot's group; otherwise a TCP ping — the time to a SYN's answer
on `port=` (443 by default): an open port and a refused one (RST) both prove the host is up. Addresses
go through the same network guard as tcp/http (metadata and link-local refused, `deny_networks`).
A TCP traceroute needs raw sockets or ICMP errors an unprivileged TCP socket never sees: not done
(docs/runbook.md says why).
"""

from __future__ import annotations

import errno
import socket
import struct
import time
from pathlib import Path

from bot.diagnostics import netguard
from bot.diagnostics.base import Adapter, Check, CheckContext, Fix, Report, UsageError, format_table
from bot.i18n import N_, _

MAX_COUNT = 10
PING_GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


def _count(options: dict[str, str]) -> int:
    raw = options.get("count", "4")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise UsageError(_("`count=` takes 1 to {most}, not `{raw}`.", most=MAX_COUNT, raw=raw[:20]))
    return int(raw)


def _validate(args: list[str], options: dict[str, str]) -> None:
    netguard.validate_host(args[0]) if args else None
    _count(options)
    if "port" in options:
        netguard.parse_port(options["port"])


def icmp_allowed() -> tuple[bool, str]:
    """Whether this process may open an ICMP datagram socket, and the sysctl that says so."""
    try:
        low, high = (int(x) for x in PING_GROUP_RANGE.read_text().split())
    except (OSError, ValueError):
        return False, _("net.ipv4.ping_group_range unreadable")
    import os

    groups = {os.getgid(), *os.getgroups()}
    return any(low <= g <= high for g in groups), f"net.ipv4.ping_group_range = {low} {high}"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def _icmp_echo(address: netguard.IPAddress, seq: int, timeout: float) -> float | None:
    """One echo over a datagram socket; RTT in ms, or None without a reply. OSError if not allowed."""
    v6 = address.version == 6
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                         socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)  # fmt: skip
    try:
        sock.settimeout(timeout)
        payload = b"warroom-ping" + struct.pack("!d", time.time())
        kind = 128 if v6 else 8
        header = struct.pack("!BBHHH", kind, 0, 0, 0, seq)  # the kernel sets the id (and v6 checksum)
        packet = struct.pack("!BBHHH", kind, 0, _checksum(header + payload), 0, seq) + payload
        started = time.perf_counter()
        sock.sendto(packet, (str(address), 0))
        deadline = started + timeout
        while True:
            sock.settimeout(max(deadline - time.perf_counter(), 0.001))
            try:
                reply = sock.recv(2048)
            except TimeoutError:
                return None
            if (
                len(reply) >= 8
                and reply[0] == (129 if v6 else 0)
                and struct.unpack("!H", reply[6:8])[0] == seq
            ):
                return (time.perf_counter() - started) * 1000
    finally:
        sock.close()


def _tcp_echo(address: netguard.IPAddress, port: int, timeout: float) -> tuple[float | None, str]:
    started = time.perf_counter()
    try:
        netguard.connect(address, port, timeout).close()
        return (time.perf_counter() - started) * 1000, "open"
    except ConnectionRefusedError:
        return (time.perf_counter() - started) * 1000, "refused"  # a RST: the host answered
    except TimeoutError:
        return None, "no answer"
    except OSError as exc:
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return None, "unreachable"
        return None, (exc.strerror or type(exc).__name__).lower()


def check(ctx: CheckContext) -> Report:
    host = netguard.validate_host(ctx.arg(0, N_("host")))
    count = _count(ctx.options)
    port = netguard.parse_port(ctx.options.get("port", "443"))
    address = netguard.vetted_addresses(host, port, ctx.policy)[0]
    per_probe = max(ctx.timeout * 0.9 / count, 0.05)
    allowed, why = icmp_allowed()
    method, rows, times = "icmp", [], []
    for seq in range(1, count + 1):
        if method == "icmp" and allowed:
            try:
                rtt = _icmp_echo(address, seq, per_probe)
                state = "reply" if rtt is not None else "no reply"
            except OSError as exc:
                if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):  # no route: lost, not refused
                    rtt, state = None, "unreachable"
                else:  # EACCES/EPERM: the sysctl changed, or a seccomp filter — fall back to TCP
                    allowed, why = False, _("ICMP datagram socket refused ({reason})", reason=exc.strerror)
        if not allowed:
            method = f"tcp/{port}"
            rtt, state = _tcp_echo(address, port, per_probe)
        rows.append([seq, state, f"{rtt:.1f} ms" if rtt is not None else "-"])
        if rtt is not None:
            times.append(rtt)
    lost = count - len(times)
    where = host if host == str(address) else f"{host} ({address})"
    how = (
        "ICMP echo"
        if method == "icmp"
        else _("TCP ping to port {port} (ICMP not allowed: {why})", port=port, why=why)
    )
    report = Report()
    if not times:
        report.crit(
            _("{where}: no answer to {count} probe(s) ({how})", where=where, count=count, how=how),
            Fix.NETWORK,
        )
    else:
        summary = f"min/avg/max {min(times):.1f}/{sum(times) / len(times):.1f}/{max(times):.1f} ms"
        text = _("{where} is up: {answered}/{count} answered, {loss}% loss, {summary} ({how})", where=where,
                 answered=len(times), count=count, loss=100 * lost // count, summary=summary, how=how)  # fmt: skip
        (report.warn(text, Fix.NETWORK) if lost else report.ok(text))
    report.detail = f"{how}\n\n" + format_table(["seq", "result", "time"], rows)
    report.data = {"host": host, "address": str(address), "method": method, "sent": count, "received": len(times),
                   "loss_percent": 100 * lost // count, "rtt_ms": [round(t, 2) for t in times]}  # fmt: skip
    return report


ADAPTER = Adapter(
    name="ping",
    summary=N_("host reachability: ICMP echo where allowed without privileges, else TCP ping"),
    default_check="host",
    checks={
        "host": Check("host", check, N_("echo round trips and loss (unprivileged ICMP, or TCP SYN to port=)"),
                      usage="<host> [count=4] [port=443]", guide="ping -c 4 <host>", min_args=1, max_args=1,
                      options=("count", "port"), validate=_validate),
    },
)  # fmt: skip
