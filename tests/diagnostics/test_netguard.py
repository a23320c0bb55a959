"""What `/diag http|tcp|tls|dns` may reach: the shipped deploy policies deny loopback and private ranges,
link-local and metadata are always denied, and no IPv6 spelling of a denied IPv4 address gets through.

Every case runs the real check against a real local server that WOULD answer, so a refusal is the
guard's doing, not a closed port's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.loader import load_policy
from bot.config.policy import Policy
from bot.diagnostics import grammar, runner
from bot.diagnostics.base import CheckResult, Outcome
from tests.diagnostics.conftest import make_policy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _run(policy: Policy, text: str) -> CheckResult:
    command = grammar.parse(policy, text)
    assert command.adapter and command.check
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options, timeout=3
    )


@pytest.fixture(params=["policy.yml", "k8s/policy.yml"])
def shipped(request: pytest.FixtureRequest) -> Policy:
    return load_policy(DEPLOY / request.param)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "127.1",  # inet_aton shorthand
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f000001",
        "0.0.0.0",  # reaches this host on Linux
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:0:127.0.0.1]",  # IPv4-translated
        "[2002:7f00:1::1]",  # 6to4
        "[64:ff9b::7f00:1]",  # NAT64
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1 (obfuscated)
        "[2001:db8::5efe:127.0.0.1]",  # ISATAP
    ],
)
def test_the_shipped_policies_refuse_loopback_in_every_spelling(
    shipped: Policy, http_server: str, host: str
) -> None:
    port = http_server.rsplit(":", 1)[1]
    assert _run(make_policy(), f"http {http_server}/health").outcome is Outcome.OK  # it does answer
    result = _run(shipped, f"http http://{host}:{port}/health")
    assert result.outcome is Outcome.REFUSED, result.findings
    message = result.findings[0].message
    assert "diagnostics.deny_networks" in message or "link-local" in message
    assert "diagnostics.allow_networks" in message  # and how to open it deliberately


@pytest.mark.parametrize(
    "url",
    [
        "http://[::169.254.169.254]/",  # IPv4-compatible: the address the issue caught getting through
        "http://[::a9fe:a9fe]/",
        "http://[::ffff:0:169.254.169.254]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[64:ff9b::169.254.169.254]/",
        "http://[64:ff9b:1::a9fe:a9fe]/",
        "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",  # Teredo client 169.254.169.254
        "http://[2001:db8::200:5efe:a9fe:a9fe]/",  # ISATAP
    ],
)
def test_metadata_is_refused_in_every_ipv6_spelling_even_by_default(url: str) -> None:
    result = _run(make_policy(), f"http {url}")
    assert result.outcome is Outcome.REFUSED, result.findings
    assert "169.254.169.254" in result.findings[0].message or "link-local" in result.findings[0].message


def test_tcp_tls_and_dns_servers_follow_the_same_rules(shipped: Policy, http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    for text in (
        f"tcp 127.0.0.1 {port}",
        f"tcp [::ffff:10.0.0.1]:{port}",
        f"tls 192.168.1.1:{port}",
        "dns example.com server=127.0.0.53",
        "dns example.com server=[::ffff:10.0.0.2]",
    ):
        assert _run(shipped, text).outcome is Outcome.REFUSED, text


def test_a_public_address_is_not_refused(shipped: Policy) -> None:
    # 192.0.2.0/24 is TEST-NET-1: nothing answers, but the guard lets it through to the connect.
    result = _run(shipped, "tcp 192.0.2.1:9")
    assert result.outcome is not Outcome.REFUSED


def test_allow_networks_opens_a_denied_range_deliberately(http_server: str) -> None:
    denied = make_policy(diagnostics={"deny_networks": ["127.0.0.0/8"]})
    assert _run(denied, f"http {http_server}/health").outcome is Outcome.REFUSED
    opened = make_policy(diagnostics={"deny_networks": ["127.0.0.0/8"], "allow_networks": ["127.0.0.1/32"]})
    assert _run(opened, f"http {http_server}/health").outcome is Outcome.OK


def test_a_services_health_url_stays_reachable_but_only_that_port(http_server: str) -> None:
    port = int(http_server.rsplit(":", 1)[1])
    policy = make_policy(
        diagnostics={"deny_networks": ["127.0.0.0/8"]},
        services={"checkout": {"health_url": f"{http_server}/health"}},
    )
    assert _run(policy, f"http {http_server}/health").outcome is Outcome.OK
    assert _run(policy, f"tcp 127.0.0.1 {port + 1 if port < 65535 else port - 1}").outcome is Outcome.REFUSED
