"""Amazon SNS over HTTP(S): message signatures (SignatureVersion 1 = SHA1, 2 = SHA256) and confirmation.

The signing certificate is fetched from `SigningCertURL` only when that URL is https on a host the
policy allows (`alerts.sns_cert_host`, AWS's own hosts by default), so nobody can sign with a
certificate of their own. The same rule guards the `SubscribeURL` we GET to confirm a subscription.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.parse
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.alerts.normalize import PayloadError

TIMEOUT = 5.0
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_certs: dict[str, x509.Certificate] = {}
_certs_lock = threading.Lock()


class SignatureError(Exception):
    """The message is not provably from SNS (answered 401, nothing stored)."""


def allowed_url(url: object, host_pattern: str) -> str:
    if not isinstance(url, str):
        raise SignatureError("no URL")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        raise SignatureError("URL unreadable") from exc
    if parts.scheme != "https" or not parts.hostname or not re.fullmatch(host_pattern, parts.hostname):
        raise SignatureError(f"URL host not allowed: {parts.hostname!r}")
    return url


def string_to_sign(message: dict[str, Any]) -> bytes:
    kind = message.get("Type")
    names = _NOTIFICATION_FIELDS if kind == "Notification" else _CONFIRMATION_FIELDS
    lines = []
    for name in names:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue  # optional, and then left out of the signed text
            raise SignatureError(f"{name} is missing")
        lines += [name, str(value)]
    return ("\n".join(lines) + "\n").encode()


def _certificate(url: str) -> x509.Certificate:
    with _certs_lock:
        cached = _certs.get(url)
    if cached is not None:
        return cached
    try:
        # trust_env: SSL_CERT_FILE is honoured, which is how tests trust their own CA.
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False, trust_env=True)
        response.raise_for_status()
        cert = x509.load_pem_x509_certificate(response.content)
    except (httpx.HTTPError, ValueError) as exc:
        raise SignatureError(f"could not fetch the signing certificate: {exc}") from exc
    with _certs_lock:
        _certs[url] = cert
    return cert


def verify(message: dict[str, Any], host_pattern: str) -> None:
    version = str(message.get("SignatureVersion", ""))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)  # noqa: S303 - SNS v1 is SHA1
    if algorithm is None:
        raise SignatureError(f"unsupported SignatureVersion {version!r}")
    url = allowed_url(message.get("SigningCertURL"), host_pattern)
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError as exc:
        raise SignatureError("Signature is not base64") from exc
    key = _certificate(url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("the signing certificate has no RSA key")
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise SignatureError("bad signature") from exc


def confirm(message: dict[str, Any], host_pattern: str) -> None:
    """Visit SubscribeURL (after the signature was verified), as SNS asks."""
    url = allowed_url(message.get("SubscribeURL"), host_pattern)
    try:
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False, trust_env=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PayloadError(f"could not confirm the subscription: {exc}") from exc
