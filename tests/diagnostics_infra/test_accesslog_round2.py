"""`/diag docker suspicious` on a real container's nginx/ALB access log (the guide's 异常访问检测):
requests and 4xx/5xx per client IP, the top talker, probe and injection counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config.policy import Policy
from bot.diagnostics.base import Level, Outcome, UsageError
from bot.diagnostics.grammar import parse
from bot.diagnostics.runner import run_check
from tests.support.docker_engine import ENGINE_URL, TestContainers, engine_or_skip, wait_for

_LINE = '{ip} - - [14/May/2024:09:55:00 +0000] "{req}" {status} 157 "-" "curl/8"'
_REQUESTS = (
    [("203.0.113.7", "GET /api/items?id=1%20UNION%20SELECT%20password%20FROM%20users HTTP/1.1", 500)]
    + [("203.0.113.7", f"GET /wp-login.php?n={i} HTTP/1.1", 404) for i in range(6)]
    + [("203.0.113.7", "GET /static/../../etc/passwd HTTP/1.1", 400)]
    + [("10.0.0.9", "POST /api/checkout HTTP/1.1", 200), ("10.0.0.10", "GET /api/health HTTP/1.1", 200)]
)


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[TestContainers, str]]:
    client = engine_or_skip()
    box = TestContainers(client)
    script = "; ".join(
        f"echo '{_LINE.format(ip=ip, req=req, status=status)}'" for ip, req, status in _REQUESTS
    )
    container = box.run(
        "nginx", ["sh", "-c", script + "; echo 'nginx: worker process started'; exec sleep 300"]
    )
    wait_for(lambda: b"worker process" in container.logs(), what="the access log")
    try:
        yield box, box.name("nginx")
    finally:
        box.cleanup()
        client.close()


def test_suspicious_counts_per_ip_and_patterns(web: tuple[TestContainers, str]) -> None:
    policy = Policy.model_validate({"targets": {"docker": {"local": {"url": ENGINE_URL}}}})
    _, name = web
    result = run_check(policy, "docker", "suspicious", "local", [name], {}, timeout=10)
    assert result.outcome is Outcome.WARN, result.findings
    head = result.findings[0]
    assert head.message == f"{name}: 10 requests from 3 IPs, 8 4xx/5xx; top talker 203.0.113.7 (8, 80%)"
    assert head.level is Level.WARN and "/remediate aws block-ip 203.0.113.7" in (head.fix or "")
    messages = " | ".join(f.message for f in result.findings)
    assert "1 sql injection request(s) from 203.0.113.7" in messages
    assert "6 probe request(s) from 203.0.113.7" in messages  # the six wp-login.php
    assert "1 path traversal request(s) from 203.0.113.7" in messages
    assert result.data["per_ip"]["203.0.113.7"] == {"requests": 8, "4xx": 7, "5xx": 1}
    assert result.data["patterns"]["sql injection"] == 1
    assert "203.0.113.7" in result.detail and "10.0.0.9" in result.detail


def test_suspicious_validates_its_arguments() -> None:
    policy = Policy.model_validate({"targets": {"docker": {"local": {"url": ENGINE_URL}}}})
    with pytest.raises(UsageError):
        parse(policy, "docker suspicious ../etc")
