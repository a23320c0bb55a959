"""CloudWatch alarms through an SNS HTTP(S) subscription: the alarm JSON inside a signed SNS message.

One alarm is one group (its AlarmArn); ALARM fires it, OK resolves it, INSUFFICIENT_DATA is recorded
as a repeat without changing whether it fires.
"""

from __future__ import annotations

import json
from typing import Any

from bot.alerts.kinds import Parsed, sns
from bot.alerts.normalize import Alert, PayloadError, clean_map, clean_text, clean_url, title_of

STATES = {"ALARM": "trigger", "OK": "resolve"}


def _alarm_alert(alarm: dict[str, Any], region_hint: str | None) -> Alert:
    name = clean_text(alarm.get("AlarmName") or "", 255)
    if not name:
        raise PayloadError("the SNS message is not a CloudWatch alarm (AlarmName is missing)")
    state = str(alarm.get("NewStateValue") or "")
    arn = clean_text(alarm.get("AlarmArn") or "", 512)
    account = clean_text(alarm.get("AWSAccountId") or "", 32)
    group_key = arn or f"{account}:{clean_text(alarm.get('Region') or '', 64)}:{name}"
    trigger = alarm.get("Trigger") if isinstance(alarm.get("Trigger"), dict) else {}
    raw_labels: dict[str, Any] = {
        "alertname": name,
        "state": state,
        "account": account,
        "region": alarm.get("Region"),
        "namespace": trigger.get("Namespace"),
        "metric": trigger.get("MetricName"),
    }
    for dimension in trigger.get("Dimensions") or []:
        if isinstance(dimension, dict) and dimension.get("name"):
            raw_labels.setdefault(str(dimension["name"]), dimension.get("value"))
    labels = clean_map({k: v for k, v in raw_labels.items() if v not in (None, "")})
    annotations = clean_map(
        {
            k: v
            for k, v in {
                "summary": alarm.get("AlarmDescription") or name,
                "description": alarm.get("NewStateReason"),
            }.items()
            if v
        }
    )
    region = region_hint or ""
    console = None
    if region and arn:
        console = clean_url(
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"
        )
    changed = clean_text(alarm.get("StateChangeTime") or "", 64)
    return Alert(
        group_key=group_key,
        fingerprint=group_key,
        action=STATES.get(state, "trigger"),
        labels=labels,
        annotations=annotations,
        title=title_of(labels, annotations),
        summary=annotations.get("description", ""),
        starts_at=changed or None,
        generator_url=console,
        identity=(state, changed),
    )


def parse(message: Any, host_pattern: str) -> Parsed:
    if not isinstance(message, dict) or message.get("Type") not in (
        "Notification",
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
    ):
        raise PayloadError("expected an SNS message (Type Notification or SubscriptionConfirmation)")
    sns.verify(message, host_pattern)  # SignatureError: 401 at the route
    if message["Type"] == "SubscriptionConfirmation":
        sns.confirm(message, host_pattern)
        return Parsed(body={"status": "confirmed", "topic": clean_text(message.get("TopicArn"), 256)})
    if message["Type"] == "UnsubscribeConfirmation":
        return Parsed(body={"status": "ok"})
    try:
        alarm = json.loads(message.get("Message") or "")
    except ValueError as exc:
        raise PayloadError("the SNS Message is not CloudWatch alarm JSON") from exc
    if not isinstance(alarm, dict):
        raise PayloadError("the SNS Message is not CloudWatch alarm JSON")
    topic = str(message.get("TopicArn") or "")
    region = topic.split(":")[3] if topic.count(":") >= 5 else None
    return Parsed(alerts=[_alarm_alert(alarm, region)])
