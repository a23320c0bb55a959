"""E-mail pages through AWS SES (SendEmail, plain text)."""

from __future__ import annotations

import logging

from bot.config.policy import AWSTarget
from bot.contacts import DeliveryError, aws_call, aws_client, redact

log = logging.getLogger(__name__)


def send_email(target: AWSTarget | None, sender: str | None, to: str, subject: str, body: str) -> str:
    """Send one plain-text e-mail; returns the SES MessageId."""
    if not sender:
        raise DeliveryError("paging.email_from is not set")
    client = aws_client("ses", target)
    reply = aws_call(
        lambda: client.send_email(
            Source=sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject[:200], "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            },
        )
    )
    log.info("e-mail page sent to %s", redact(to))
    return str(reply.get("MessageId", ""))
