"""`/diag tcp`, `/diag tls`, `/diag dns` against local servers."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import trustme

from bot.config.policy import Policy
from bot.diagnostics import grammar, runner, tls
from bot.diagnostics.base import Level, Outcome, UsageError


def _run(policy: Policy, text: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
    command = grammar.parse(policy, text)
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options, timeout=timeout
    )


def test_tcp_open_and_refused_ports(policy: Policy, http_server: str, closed_port: int) -> None:
    open_port = int(http_server.rsplit(":", 1)[1])
    result = _run(policy, f"tcp 127.0.0.1 {open_port} {closed_port}")
    assert result.outcome is Outcome.CRIT
    assert (
        result.findings[0].level is Level.OK
        and f"127.0.0.1:{open_port} is open" in result.findings[0].message
    )
    refused = result.findings[1]
    assert refused.message == f"127.0.0.1:{closed_port}: connection refused (nothing listening, or rejected)"
    assert "端口连通性检查" in (refused.fix or "")
    assert result.data["ports"] == {str(open_port): "open", str(closed_port): "refused"}


def test_tcp_host_port_form_resolves_names(policy: Policy, http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    result = _run(policy, f"tcp localhost:{port}")
    assert result.outcome is Outcome.OK
    assert result.findings[0].message.startswith(f"localhost:{port} (")


def test_tcp_refuses_metadata(policy: Policy) -> None:
    result = _run(policy, "tcp 169.254.169.254 80")
    assert result.outcome is Outcome.REFUSED
    assert "169.254.169.254 is link-local / cloud metadata" in result.findings[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [("tcp db", "needs a port"), ("tcp db 0", "is not a port"), ("tcp a;rm 1", "not a valid host")],
)
def test_tcp_arguments_are_validated(policy: Policy, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        grammar.parse(policy, text)


def test_tls_expiring_untrusted_certificate(
    policy: Policy, tls_server: tuple[int, trustme.CA, datetime]
) -> None:
    port, _ca, not_after = tls_server
    result = _run(policy, f"tls localhost:{port}")
    assert result.outcome is Outcome.CRIT
    expiry, trust = result.findings
    assert expiry.level is Level.CRIT
    assert re.match(r"Certificate expires in (2\.9|3\.0) days", expiry.message)
    assert f"{not_after:%Y-%m-%d %H:%M} UTC" in expiry.message
    assert trust.level is Level.CRIT and trust.message.startswith("Not trusted:")
    assert result.data["trusted"] is False


def test_tls_trusted_certificate(
    policy: Policy, tls_server: tuple[int, trustme.CA, datetime], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca, _ = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # OpenSSL's default verify paths honour it
    result = _run(policy, f"tls localhost:{port} days=2")
    assert result.findings[1].level is Level.OK and result.findings[1].message.startswith(
        "Trusted chain for localhost"
    )
    assert "issuer" in result.detail and "O=trustme" in result.detail


def test_tls_warn_window(policy: Policy, tls_server: tuple[int, trustme.CA, datetime]) -> None:
    # 3 days left is inside the critical window (≤ 7 days) whatever days= says.
    port, _, _ = tls_server
    assert _run(policy, f"tls localhost:{port} days=60").findings[0].level is Level.CRIT


def test_tls_parses_a_certificate_without_an_x509_library() -> None:
    ca = trustme.CA()
    import ssl

    der = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    info = tls.parse_certificate(der)
    assert "O=trustme" in info.issuer and info.not_after > info.not_before


def test_tls_on_a_closed_port(policy: Policy, closed_port: int) -> None:
    result = _run(policy, f"tls 127.0.0.1:{closed_port}")
    assert result.outcome is Outcome.ERROR and "connection refused" in result.findings[0].message


def test_dns_follows_the_cname_chain(policy: Policy, dns_server: int) -> None:
    result = _run(policy, f"dns www.shop.test A server=127.0.0.1:{dns_server}")
    assert result.outcome is Outcome.OK
    assert result.findings[0].message.startswith("A 10.1.2.3 (")
    assert "CNAME" in result.detail and "api.shop.test." in result.detail
    assert result.data["records"] == {"A": ["10.1.2.3"]}


def test_dns_nxdomain(policy: Policy, dns_server: int) -> None:
    result = _run(policy, f"dns nope.shop.test server=127.0.0.1:{dns_server}")
    assert result.outcome is Outcome.ERROR
    assert result.findings[0].message == "nope.shop.test does not exist (NXDOMAIN)"
    assert "DNS解析检查" in (result.findings[0].fix or "")


def test_dns_server_that_never_answers_times_out(policy: Policy, closed_port: int) -> None:
    result = _run(policy, f"dns api.shop.test A server=127.0.0.1:{closed_port}", timeout=1.0)
    assert result.outcome in (Outcome.ERROR, Outcome.TIMEOUT)
    assert result.elapsed_ms < 1500


def test_dns_validates_types(policy: Policy) -> None:
    with pytest.raises(UsageError, match="Unknown record type `BOGUS`"):
        grammar.parse(policy, "dns example.com BOGUS")
