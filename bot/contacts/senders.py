"""ContactSenders: the ContactsPort over AWS SNS / SES and plain HTTPS webhooks."""

from __future__ import annotations

from typing import Any

from bot.config.policy import Policy
from bot.contacts import aws_target
from bot.contacts.email import send_email
from bot.contacts.sms import send_sms
from bot.contacts.webhook import post_webhook


class ContactSenders:
    """Stateless: the boto3 clients are cached per account in bot.contacts."""

    def sms(self, policy: Policy, phone: str, text: str) -> str:
        return send_sms(aws_target(policy), phone, text)

    def email(self, policy: Policy, to: str, subject: str, body: str) -> str:
        return send_email(aws_target(policy), policy.paging.email_from, to, subject, body)

    def webhook(self, policy: Policy, url: str, payload: dict[str, Any]) -> int:
        return post_webhook(url, payload, policy.paging.webhook_timeout)
