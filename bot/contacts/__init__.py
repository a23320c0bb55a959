"""Contacts: the ContactsPort for pages beyond Slack, one module each: SMS (AWS SNS), e-mail (AWS SES), webhook.

`bot.contacts.senders.ContactSenders` implements `bot.ports.ContactsPort`; the composition root
(bot.app) wires it into the Runtime. Each module does one job — deliver one page text to one
address — and raises `DeliveryError` when it could not; the escalation engine records the result
and retries with backoff. Phone numbers,
addresses and webhook URLs are personal or secret, so they never reach a log line: logs carry
`redact()`ed forms only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bot.config.policy import AWSTarget, Policy
from bot.ports import DeliveryError

__all__ = ["DeliveryError", "aws_call", "aws_client", "aws_target", "redact"]


def redact(address: str) -> str:
    """A form of an address fit for logs: +86******0000, a***@example.com, https://host/…"""
    if address.startswith(("http://", "https://")):
        try:
            parts = urlsplit(address)
        except ValueError:  # not a URL urllib can read: say only what kind it is
            return address.partition("://")[0] + "://…"
        return f"{parts.scheme}://{parts.hostname}/…"
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return address[:3] + "*" * max(0, len(address) - 7) + address[-4:]


def aws_target(policy: Policy) -> AWSTarget | None:
    """The AWS account paging uses: `paging.aws`, or the only `targets.aws` entry, or the default chain."""
    if policy.paging.aws:
        return policy.targets.aws.get(policy.paging.aws)
    if len(policy.targets.aws) == 1:
        return next(iter(policy.targets.aws.values()))
    return None


_clients: dict[tuple[str, str | None, str | None, str | None], Any] = {}
_clients_lock = threading.Lock()


def aws_client(service: str, target: AWSTarget | None) -> Any:
    """A cached boto3 client (creating one costs tens of milliseconds; clients are thread-safe)."""
    import boto3
    from botocore.config import Config

    key = (
        service,
        target.region if target else None,
        target.profile if target else None,
        target.endpoint_url if target else None,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            session = boto3.session.Session(profile_name=target.profile if target else None)
            client = session.client(
                service,
                region_name=target.region if target else None,
                endpoint_url=target.endpoint_url if target else None,
                # A page must not hang the tick: short timeouts; the outbox retries, not botocore.
                config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
            )
            _clients[key] = client
        return client


def aws_call(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a boto3 call, turning its errors into DeliveryError with the AWS error code only."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        raise DeliveryError(str(exc.response.get("Error", {}).get("Code") or "ClientError")) from None
    except BotoCoreError as exc:
        raise DeliveryError(type(exc).__name__) from None
