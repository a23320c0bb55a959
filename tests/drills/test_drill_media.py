"""A drill's page says DRILL in every medium: Slack DM, SMS (SNS on moto), e-mail (SES on moto), webhook."""

from __future__ import annotations

import boto3

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import engine
from bot.incidents import flows
from devkit.slack_emulator import blocks_to_text
from tests.escalation.helpers import GUIDE_POLICY, ONCALL, REPORTER, close, make_runtime, pages
from tests.escalation.test_extra_channels import _moto_data, webhook_receiver
from tests.support.moto_server import moto_server


def test_every_medium_of_a_drill_page_says_drill(emu, sqlite_url) -> None:
    clock = ManualClock()
    with moto_server() as aws_url, webhook_receiver() as (hook_url, hooks):
        boto3.client("ses", region_name="us-east-1", endpoint_url=aws_url).verify_email_identity(
            EmailAddress="warroom@example.com"
        )
        policy = load_policy_text(
            GUIDE_POLICY
            + f"""
contacts:
  {ONCALL}: {{sms: "+15555550100", email: oncall@example.com, webhook: "{hook_url}"}}
paging: {{email_from: warroom@example.com, aws: main}}
targets:
  aws: {{main: {{region: us-east-1, endpoint_url: "{aws_url}"}}}}
"""
        )
        runtime = make_runtime(emu, sqlite_url, policy, clock)
        try:
            result = flows.declare(
                runtime,
                severity="p0",
                title="Payments down",
                reporter_id=REPORTER,
                origin_channel_id="C_GENERAL",
                request_key=None,
                drill=True,
            )
            engine.run_due(runtime)
            [dm] = pages(emu, ONCALL, result.incident.id)
            assert "DRILL INC-1" in dm["text"] and "DRILL INC-1" in blocks_to_text(dm["blocks"])
            data = _moto_data(aws_url)
            [sms] = data["sns"]["SMS"]
            assert "DRILL INC-1" in sms["message"] and "#drill-" in sms["message"]
            [mail] = data["ses"]["Message"]
            assert "DRILL INC-1" in mail["subject"] and "DRILL INC-1" in mail["body"]
            [hook] = hooks
            assert hook["drill"] is True and hook["incident"]["handle"] == "DRILL INC-1"
        finally:
            close(runtime)
