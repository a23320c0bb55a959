"""`/diag aws suspicious <log-group>`: ALB access logs in CloudWatch Logs (moto in server mode)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest

from bot.config.policy import Policy
from bot.diagnostics.base import Outcome, UsageError
from bot.diagnostics.grammar import parse
from bot.diagnostics.runner import run_check
from tests.support.moto_server import moto_server

GROUP = "/aws/alb/shop"
_ALB = 'http 2024-05-14T09:55:00.1Z app/shop/1 {ip}:5555 10.0.0.1:80 0.001 0.002 0.000 {status} {status} 10 20 "{req}" "ua" - -'


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with moto_server() as endpoint:
        logs = boto3.client("logs", region_name="us-east-1", endpoint_url=endpoint)
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="alb")
        now = int(time.time() * 1000)
        requests = [
            ("198.51.100.3", 404, f"GET https://shop:443/wp-admin/{i}.php HTTP/1.1") for i in range(4)
        ]
        requests += [("198.51.100.3", 400, "GET https://shop:443/../../etc/passwd HTTP/1.1")]
        requests += [("10.0.0.9", 200, "GET https://shop:443/api/items HTTP/1.1")]
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName="alb",
            logEvents=[
                {"timestamp": now - 1000 + i, "message": _ALB.format(ip=ip, status=status, req=req)}
                for i, (ip, status, req) in enumerate(requests)
            ],
        )
        yield endpoint


def test_suspicious_reads_alb_logs_from_cloudwatch(url: str) -> None:
    policy = Policy.model_validate(
        {"targets": {"aws": {"main": {"region": "us-east-1", "endpoint_url": url}}}}
    )
    result = run_check(policy, "aws", "suspicious", "main", [GROUP], {"since": "10m"}, timeout=10)
    assert result.outcome is Outcome.WARN, result.findings
    messages = [f.message for f in result.findings]
    assert messages[0] == f"{GROUP}: 6 requests from 2 IPs, 5 4xx/5xx; top talker 198.51.100.3 (5, 83%)"
    assert any(m.startswith("4 probe request(s) from 198.51.100.3") for m in messages)
    assert any(m.startswith("1 path traversal request(s) from 198.51.100.3") for m in messages)
    with pytest.raises(UsageError, match="not a CloudWatch Logs group name"):
        parse(policy, "aws suspicious 'bad group;'")
