"""Grafana's webhook contact point and CloudWatch alarms through a signed SNS subscription."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.helpers import (
    ANNOUNCE,
    ONCALL,
    all_text,
    event_count,
    groups,
    incidents,
    policy,
    post,
    wait_ticking,
)
from tests.alerts.sns import FakeSNS
from tests.harness import Harness

ROUTES = """
    - match: {severity: critical}
      severity: p1
      declare: auto
    - match: {namespace: AWS/ApplicationELB}
      severity: p2
      declare: auto
      auto_resolve: true
    - match_re: {team: "blue|green"}
      severity: p2
      declare: auto
"""


@pytest.fixture
def sns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSNS]:
    fake = FakeSNS(tmp_path)
    monkeypatch.setenv(
        "SSL_CERT_FILE", str(fake.ca_file)
    )  # the bot trusts this test's CA, as a deployment would AWS's
    yield fake
    fake.close()


@pytest.fixture
def h(db_url: str, token: tuple[str, str]) -> Iterator[Harness]:
    pol = policy(token[0], routes=ROUTES, alerts_extra='  sns_cert_host: "^127\\\\.0\\\\.0\\\\.1$"')
    with Harness(db_url, policy=pol) as harness:
        harness.emulator.add_user("oncall", id=ONCALL)
        harness.emulator.add_channel("incidents", id=ANNOUNCE)
        yield harness


GRAFANA = {
    # Grafana's documented webhook body (Alerting → contact points → webhook), trimmed to one alert.
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        }
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue", "zone": "us-1", "alertname": "High memory usage"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": '{}:{alertname="High memory usage"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1]  (High memory usage blue us-1)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = High memory usage\n",
}


def test_grafana_webhook_opens_an_incident_with_its_silence_link(h: Harness, token: tuple[str, str]) -> None:
    assert post(h.url, "grafana", GRAFANA, token[1]).status == 200
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 15)
    assert incident.title == "This alert was triggered for zone us-1" and incident.severity == "p2"
    channel = h.wait_until(lambda: h.incident_channel(), 10)
    summary = h.wait_until(
        lambda: next((m for m in h.emulator.messages(channel.id) if "Labels:" in all_text(m)), None), 15
    )
    assert "play.grafana.org/alerting/silence/new" in all_text(summary)
    resolved = json.loads(json.dumps(GRAFANA).replace('"firing"', '"resolved"'))
    resolved["alerts"][0]["endsAt"] = "2021-10-12T10:01:03Z"
    assert post(h.url, "grafana", resolved, token[1]).status == 200
    wait_ticking(
        h,
        lambda: any("alert group resolved" in m.get("text", "") for m in h.emulator.messages(channel.id)),
    )


def test_sns_subscription_is_confirmed_after_its_signature_checks(h: Harness, sns: FakeSNS) -> None:
    answer = post(h.url, "aws", sns.confirmation(), None)
    assert answer.status == 200 and answer.body["status"] == "confirmed"
    assert any(hit.startswith("/confirm?Action=ConfirmSubscription") for hit in sns.hits)
    assert event_count(h.runtime) == 0


@pytest.mark.parametrize("version", [1, 2])
def test_cloudwatch_alarm_opens_and_ok_auto_resolves(h: Harness, sns: FakeSNS, version: int) -> None:
    assert post(h.url, "aws", sns.alarm("ALARM", version=version), None).status == 200
    incident = h.wait_until(lambda: incidents(h.runtime) and incidents(h.runtime)[0], 15)
    assert incident.title == "Checkout 5xx rate above 5%" and incident.severity == "p2"
    [group] = groups(h.runtime)
    assert group.detail["labels"]["LoadBalancer"] == "app/checkout/50dc6c495c0c9188"
    # SNS retries with the same message: nothing changes.
    message = sns.alarm("OK", changed="2026-12-03T03:10:00.000+0000", version=version)
    assert post(h.url, "aws", message, None).status == 200
    assert post(h.url, "aws", message, None).status == 200
    h.wait_until(lambda: incidents(h.runtime)[0].status == "resolved", 15)  # this route says auto_resolve
    assert event_count(h.runtime) == 2


def test_unsigned_tampered_or_foreign_sns_messages_are_refused(h: Harness, sns: FakeSNS) -> None:
    tampered = sns.alarm("ALARM")
    tampered["Message"] = tampered["Message"].replace("checkout-5xx", "evil")
    assert post(h.url, "aws", tampered, None).status == 401
    foreign = sns.alarm("ALARM")
    foreign["SigningCertURL"] = "https://evil.example.com/SimpleNotificationService.pem"
    assert post(h.url, "aws", foreign, None).status == 401
    plain = sns.alarm("ALARM")
    plain["SigningCertURL"] = plain["SigningCertURL"].replace("https://", "http://")
    assert post(h.url, "aws", plain, None).status == 401
    unreadable = sns.alarm("ALARM")
    unreadable["SigningCertURL"] = "https://[sns.us-east-1.amazonaws.com/cert.pem"  # broken IPv6 literal
    assert post(h.url, "aws", unreadable, None).status == 401
    unsigned = {k: v for k, v in sns.alarm("ALARM").items() if k != "Signature"}
    assert post(h.url, "aws", unsigned, None).status == 401
    bad_confirm = sns.confirmation()
    bad_confirm["SubscribeURL"] = "https://evil.example.com/confirm"
    assert post(h.url, "aws", bad_confirm, None).status == 401
    assert not any(hit.startswith("/confirm") for hit in sns.hits)
    assert event_count(h.runtime) == 0 and incidents(h.runtime) == []
