"""`/diag ping` without raw sockets: ICMP datagram sockets where net.ipv4.ping_group_range allows this
process, else a TCP ping; the network guard of tcp/http applies. Against local listeners and TEST-NET."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from bot.config.policy import Policy
from bot.diagnostics import grammar, ping, runner
from bot.diagnostics.base import Level, Outcome, UsageError


def _run(policy: Policy, text: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
    command = grammar.parse(policy, text)
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options, timeout=timeout
    )


def test_ping_answers_with_loss_and_round_trips(policy: Policy, http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    result = _run(policy, f"ping 127.0.0.1 count=3 port={port}")
    assert result.outcome is Outcome.OK, result.findings
    message = result.findings[0].message
    assert "127.0.0.1 is up: 3/3 answered, 0% loss, min/avg/max" in message
    allowed, why = ping.icmp_allowed()
    if allowed:
        assert result.data["method"] == "icmp" and "ICMP echo" in message
    else:  # this machine's sysctl forbids ICMP datagram sockets: the fallback says so
        assert result.data["method"] == f"tcp/{port}"
        assert f"TCP ping to port {port} (ICMP not allowed: {why})" in message
    assert result.data["received"] == 3 and len(result.data["rtt_ms"]) == 3


def test_tcp_ping_counts_a_refused_port_as_up(policy: Policy, closed_port: int) -> None:
    allowed, _ = ping.icmp_allowed()
    if allowed:
        pytest.skip("ICMP is allowed here: the TCP fallback is not used")
    result = _run(policy, f"ping 127.0.0.1 count=2 port={closed_port}")
    assert result.outcome is Outcome.OK and "2/2 answered" in result.findings[0].message


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose SYNs are dropped: a listener whose accept queue is full (the kernel drops, no RST)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    try:
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def test_ping_with_no_answer_is_critical(policy: Policy, silent_port: int) -> None:
    if ping.icmp_allowed()[0]:
        pytest.skip("ICMP is allowed here: loopback always answers an echo")
    result = _run(policy, f"ping 127.0.0.1 count=2 port={silent_port}", timeout=2)
    assert result.outcome is Outcome.CRIT, result.findings
    assert result.findings[0].level is Level.CRIT
    assert "127.0.0.1: no answer to 2 probe(s)" in result.findings[0].message
    assert result.data["loss_percent"] == 100


def test_ping_goes_through_the_network_guard(policy: Policy) -> None:
    result = _run(policy, "ping 169.254.169.254")
    assert result.outcome is Outcome.REFUSED
    assert "link-local / cloud metadata" in result.findings[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ping a;rm", "not a valid host"),
        ("ping db count=99", "takes 1 to 10"),
        ("ping db port=0", "is not a port"),
    ],
)
def test_ping_arguments_are_validated(policy: Policy, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        grammar.parse(policy, text)


# The ICMP path for real, on any machine where the test runs as root: a network namespace of its own,
# whose net.ipv4.ping_group_range admits every group (the sysctl is per namespace), loopback up.
_IN_NAMESPACE = """
import json, sys
from tests.diagnostics.conftest import make_policy
from bot.diagnostics import grammar, ping, runner
policy = make_policy()
command = grammar.parse(policy, sys.argv[1])
result = runner.run_check(policy, command.adapter, command.check, command.target, command.args, command.options)
print(json.dumps({"allowed": ping.icmp_allowed()[0], "outcome": result.outcome.value, "data": result.data,
                  "messages": [f.message for f in result.findings]}))
"""


def _in_namespace(text: str) -> dict:  # type: ignore[type-arg]
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a network namespace of its own")
    setup = 'echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range && ip link set lo up && exec "$@"'
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", setup, "sh", sys.executable, "-c", _IN_NAMESPACE, text],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_icmp_echo_where_the_sysctl_allows_it() -> None:
    answer = _in_namespace("ping 127.0.0.1 count=3")
    assert answer["allowed"] is True
    assert answer["outcome"] == "ok" and answer["data"]["method"] == "icmp"
    assert answer["data"]["received"] == 3 and len(answer["data"]["rtt_ms"]) == 3
    assert "127.0.0.1 is up: 3/3 answered, 0% loss" in answer["messages"][0]
    assert "ICMP echo" in answer["messages"][0]


def test_icmp_echo_with_no_route_is_critical() -> None:
    # The namespace has loopback only: TEST-NET-1 is unreachable, every echo is lost.
    answer = _in_namespace("ping 192.0.2.1 count=2")
    assert answer["allowed"] is True and answer["data"]["method"] == "icmp"
    assert answer["outcome"] == "crit", answer
    assert answer["data"]["loss_percent"] == 100
