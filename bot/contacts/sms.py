"""SMS pages through AWS SNS (Publish to a phone number)."""

from __future__ import annotations

import logging

from bot.config.policy import AWSTarget
from bot.contacts import aws_call, aws_client, redact

log = logging.getLogger(__name__)
SMS_MAX = 1600  # SNS refuses longer SMS bodies


def send_sms(target: AWSTarget | None, phone: str, text: str) -> str:
    """Send `text` to `phone` (E.164); returns the SNS MessageId."""
    client = aws_client("sns", target)
    reply = aws_call(
        lambda: client.publish(
            PhoneNumber=phone,
            Message=text[:SMS_MAX],
            MessageAttributes={
                # Transactional: SNS favours delivery over cost, as a page needs.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
    )
    log.info("sms page sent to %s", redact(phone))
    return str(reply.get("MessageId", ""))
