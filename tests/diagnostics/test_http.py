"""`/diag http` against local servers: status, timings in ms, 5xx with the guide's fix, timeouts, refusals."""

from __future__ import annotations

import pytest

from bot.config.policy import Policy
from bot.diagnostics import grammar, runner
from bot.diagnostics.base import Level, Outcome, UsageError


def _run(policy: Policy, text: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
    command = grammar.parse(policy, text)
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options, timeout=timeout
    )


def test_status_and_timings_in_ms(policy: Policy, http_server: str) -> None:
    result = _run(policy, f"http {http_server}/health")
    assert result.outcome is Outcome.OK
    assert result.findings[0].message == "HTTP 200 OK"
    timings = result.findings[1].message
    for phase in ("DNS ", "connect ", "TLS —", "first byte ", "total "):
        assert phase in timings
    assert timings.endswith(" ms")
    assert result.data["status"] == 200 and result.data["total_ms"] > 0
    assert "time_starttransfer" in result.detail and '{"status": "ok"}' in result.detail


def test_502_is_critical_with_the_guides_fix(policy: Policy, http_server: str) -> None:
    result = _run(policy, f"http get {http_server}/down")
    assert result.outcome is Outcome.CRIT
    assert result.findings[0].message == "HTTP 502 Bad Gateway"
    assert result.findings[0].fix and "检查应用服务状态，重启服务" in result.findings[0].fix


def test_a_secret_in_the_body_never_reaches_the_output(policy: Policy, http_server: str) -> None:
    result = _run(policy, f"http {http_server}/broken")
    assert result.outcome is Outcome.CRIT and "查看应用日志" in (result.findings[0].fix or "")
    assert "hunter2" not in result.detail and "DB_PASSWORD=*****" in result.detail


def test_redirects_are_reported_not_followed(policy: Policy, http_server: str) -> None:
    result = _run(policy, f"http {http_server}/moved")
    assert result.findings[0].message.startswith("HTTP 301")
    assert any(f.message == "Redirects to /health (not followed)" for f in result.findings)


def test_expect_and_slow_options(policy: Policy, http_server: str) -> None:
    result = _run(policy, f"http {http_server}/health expect=204 slow=0ms")
    assert result.findings[0].level is Level.CRIT and "expected 204" in result.findings[0].message
    assert result.findings[1].level is Level.WARN


def test_a_hanging_server_times_out_and_says_so(policy: Policy, hanging_server: int) -> None:
    result = _run(policy, f"http http://127.0.0.1:{hanging_server}/", timeout=1.0)
    assert result.outcome is Outcome.TIMEOUT
    assert result.error == "timed out after 1 s"
    assert result.findings[0].message == "No answer: timed out after 1 s"
    assert 900 <= result.elapsed_ms < 2000


def test_a_closed_port_is_refused(policy: Policy, closed_port: int) -> None:
    result = _run(policy, f"http http://127.0.0.1:{closed_port}/")
    assert result.outcome is Outcome.ERROR
    assert result.findings[0].message == f"Can't connect to 127.0.0.1:{closed_port}: connection refused"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
        "http://0xa9fea9fe/",
    ],
)
def test_metadata_addresses_are_refused(policy: Policy, url: str) -> None:
    result = _run(policy, f"http {url}")
    assert result.outcome is Outcome.REFUSED
    assert "diagnostics.allow_networks" in result.findings[0].message


def test_a_name_resolving_to_link_local_is_refused(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "metadata.shop.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    result = _run(policy, "http http://metadata.shop.test/")
    assert result.outcome is Outcome.REFUSED
    assert "metadata.shop.test resolves to 169.254.169.254" in result.findings[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http ftp://x/", "is not an http:// or https:// URL"),
        ("http http://bad_host!/", "is not a valid host name"),
        ("http http://x:99999/", "invalid port"),
        ("http ==web[31m", "is not a URL Warroom can read"),  # an unbalanced [ reads as broken IPv6
        ("http http://x/ method=POST", "read-only"),
        ("http", "Missing arguments"),
    ],
)
def test_bad_input_is_answered_before_anything_runs(policy: Policy, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        grammar.parse(policy, text)


def test_https_reports_the_tls_time(policy: Policy, https_server: str) -> None:
    result = _run(policy, f"http {https_server}/health insecure=yes")
    assert result.outcome is Outcome.OK
    assert "TLS —" not in result.findings[1].message and result.data["tls_ms"] > 0


def test_https_with_an_untrusted_certificate_fails_verification(policy: Policy, https_server: str) -> None:
    result = _run(policy, f"http {https_server}/health")
    assert result.outcome is Outcome.ERROR
    finding = result.findings[0]
    assert finding.message.startswith("TLS certificate of localhost:") and "is not trusted" in finding.message
    assert "trusted CA" in (finding.fix or "")
