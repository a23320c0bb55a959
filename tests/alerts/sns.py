"""A stand-in for SNS's side of an HTTPS subscription: a signing certificate of our own, served over
HTTPS (a trustme CA the bot is told to trust through SSL_CERT_FILE), and messages signed with it
exactly as SNS signs them (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from bot.alerts.kinds.sns import string_to_sign

TOPIC = "arn:aws:sns:us-east-1:123456789012:warroom-alarms"


def _signing_identity() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.us-east-1.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


class FakeSNS:
    """HTTPS on 127.0.0.1: GET /SimpleNotificationService.pem and GET /confirm?Token=… (recorded)."""

    def __init__(self, tmp: Path):
        self.ca = trustme.CA()
        self.ca_file = tmp / "sns-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.key, self.cert_pem = _signing_identity()
        self.hits: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits.append(self.path)
                body = owner.cert_pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sign(self, message: dict[str, Any], version: int = 1) -> dict[str, Any]:
        message = {
            **message,
            "SignatureVersion": str(version),
            "SigningCertURL": f"{self.base}/SimpleNotificationService.pem",
        }
        algorithm = hashes.SHA1() if version == 1 else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}

    def confirmation(self) -> dict[str, Any]:
        token = uuid.uuid4().hex
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "Token": token,
                "TopicArn": TOPIC,
                "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
                "SubscribeURL": f"{self.base}/confirm?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
                "Timestamp": "2026-12-03T03:00:00.000Z",
            }
        )

    def alarm(
        self,
        state: str = "ALARM",
        *,
        name: str = "checkout-5xx",
        changed: str = "2026-12-03T03:00:00.000+0000",
        version: int = 1,
        subject: bool = True,
    ) -> dict[str, Any]:
        """A CloudWatch alarm state change as SNS delivers it (docs: CloudWatch alarm actions, SNS JSON)."""
        alarm = {
            "AlarmName": name,
            "AlarmDescription": "Checkout 5xx rate above 5%",
            "AWSAccountId": "123456789012",
            "AlarmConfigurationUpdatedTimestamp": "2026-12-01T10:00:00.000+0000",
            "NewStateValue": state,
            "NewStateReason": "Threshold Crossed: 1 datapoint [7.5] was greater than the threshold (5.0).",
            "StateChangeTime": changed,
            "Region": "US East (N. Virginia)",
            "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
            "OldStateValue": "OK" if state == "ALARM" else "ALARM",
            "OKActions": [TOPIC],
            "AlarmActions": [TOPIC],
            "InsufficientDataActions": [],
            "Trigger": {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Namespace": "AWS/ApplicationELB",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Unit": None,
                "Dimensions": [{"value": "app/checkout/50dc6c495c0c9188", "name": "LoadBalancer"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 5.0,
                "TreatMissingData": "missing",
                "EvaluateLowSampleCountPercentile": "",
            },
        }
        message: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC,
            "Message": json.dumps(alarm),
            "Timestamp": "2026-12-03T03:00:01.000Z",
            "UnsubscribeURL": f"{self.base}/unsubscribe",
        }
        if subject:
            message["Subject"] = f'{state}: "{name}" in US East (N. Virginia)'
        return self.sign(message, version)
