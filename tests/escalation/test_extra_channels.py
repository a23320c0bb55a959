"""Per-person extra channels: SMS through SNS and e-mail through SES on a moto server, and a JSON webhook."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import engine
from tests.escalation.helpers import (
    GUIDE_POLICY,
    ONCALL,
    close,
    declare,
    make_runtime,
    outbox,
    pages,
    timeline,
)
from tests.support.moto_server import moto_server


@contextmanager
def webhook_receiver(fail_first: int = 0) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    failures = [fail_first]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if failures[0] > 0:
                failures[0] -= 1
                self.send_response(502)
            else:
                received.append(json.loads(body))
                self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/pager?token=s3cret", received
    finally:
        server.shutdown()
        server.server_close()


def _moto_data(url: str) -> dict[str, Any]:
    return json.loads(urllib.request.urlopen(f"{url}/moto-api/data.json").read())


def test_sms_email_and_webhook_pages_are_delivered_once_each(emu, pg_url) -> None:
    clock = ManualClock()
    with moto_server() as aws_url, webhook_receiver(fail_first=1) as (hook_url, hooks):
        boto3.client("ses", region_name="us-east-1", endpoint_url=aws_url).verify_email_identity(
            EmailAddress="warroom@example.com"
        )
        policy = load_policy_text(
            GUIDE_POLICY
            + f"""
contacts:
  {ONCALL}: {{sms: "+15555550100", email: oncall@example.com, webhook: "{hook_url}"}}
paging: {{email_from: warroom@example.com, aws: main, webhook_timeout: 3s}}
targets:
  aws: {{main: {{region: us-east-1, endpoint_url: "{aws_url}"}}}}
"""
        )
        runtime = make_runtime(emu, pg_url, policy, clock)
        try:
            incident = declare(runtime, severity="p0", title="Payments down")
            engine.run_due(runtime)
            # The webhook answered 502 once: only it is retried; the DM, SMS and e-mail are not resent.
            clock.advance(2)
            engine.run_due(runtime)
            engine.run_due(runtime)

            assert len(pages(emu, ONCALL, incident.id)) == 1
            data = _moto_data(aws_url)
            [sms] = data["sns"]["SMS"]
            assert sms["phone_number"] == "+15555550100"
            assert "P0" in sms["message"] and "Payments down" in sms["message"] and "#inc-" in sms["message"]
            [mail] = data["ses"]["Message"]
            assert mail["destinations"]["ToAddresses"] == ["oncall@example.com"]
            assert mail["source"] == "warroom@example.com"
            assert "Payments down" in mail["subject"] and "Acknowledge" in mail["body"]
            [hook] = hooks
            assert hook["type"] == "page" and hook["incident"]["id"] == incident.id
            assert hook["key"] == f"{incident.id}:0:0:{ONCALL}" and hook["tier"] == "tier1"

            [row] = [r for r in outbox(runtime, incident.id) if r.kind == "page"]
            assert row.status == "sent" and row.attempts == 2
            assert {k: v["ok"] for k, v in row.deliveries.items()} == {
                "slack": True,
                "invite": True,
                "sms": True,
                "email": True,
                "webhook": True,
            }
            events = [e.text for e in timeline(runtime, incident.id, "page", "page_failed")]
            assert events == [
                f"Paged <@{ONCALL}> (tier1) via Slack DM, SMS, e-mail",
                f"Page to <@{ONCALL}> (tier1) failed: webhook (HTTP 502); attempt 1 of 8, retrying in 2s",
                f"Paged <@{ONCALL}> (tier1) via webhook",
            ]
            # The webhook's token never reaches the timeline.
            assert all("s3cret" not in json.dumps(e.data) + e.text for e in timeline(runtime, incident.id))
        finally:
            close(runtime)
