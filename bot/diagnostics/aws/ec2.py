"""EC2 instances: state and both status checks, with the guide's fix for each failure."""

from __future__ import annotations

from typing import Any

from bot.diagnostics.aws.client import INSTANCE_ID, MAX_LISTED, aws, tag_value, validate_ids
from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Report,
    format_table,
)
from bot.i18n import N_, _


def validate_ec2(args: list[str], options: dict[str, str]) -> None:
    validate_ids(args, INSTANCE_ID, N_("instance id"), "i-0123456789abcdef0")


# ------------------------------------------------------------------------------------------- ec2
def ec2(ctx: CheckContext) -> Report:
    """EC2 instances: state, system and instance status checks (impaired flagged), scheduled events."""
    ids = validate_ids(ctx.args, INSTANCE_ID, N_("instance id"), "i-0123456789abcdef0")
    name = ctx.options.get("name")
    with aws(ctx, "ec2") as client:
        instances = _instances(client, ids, name)
        found = [i["InstanceId"] for i in instances]
        statuses = _statuses(client, found) if found else {}
    report = Report()
    rows = []
    for instance in instances:
        status = statuses.get(instance["InstanceId"], {})
        instance_findings(report, instance, status)
        rows.append(_instance_row(instance, status))
    if not instances:
        found = _("no EC2 instances found named `{name}`", name=name) if name else _("no EC2 instances found")
        report.warn(found, _("check the target's region"))
    elif not report.findings:
        report.ok(_("{n} instances running, all status checks passed", n=len(instances)))
    if len(instances) >= MAX_LISTED and not ids:
        report.ok(_("showing the first {n} instances: name some ids or use name=", n=MAX_LISTED))
    report.detail = format_table(
        ["INSTANCE", "NAME", "TYPE", "STATE", "AZ", "SYSTEM CHECK", "INSTANCE CHECK", "EVENTS"], rows
    )
    report.data["instances"] = {r[0]: {"state": r[3], "system": r[5], "instance": r[6]} for r in rows}
    return report


def _instances(client: Any, ids: list[str], name: str | None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"InstanceIds": ids} if ids else {}
    if name:
        kwargs["Filters"] = [{"Name": "tag:Name", "Values": [name]}]
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_instances").paginate(**kwargs):
        for reservation in page.get("Reservations", []):
            found += reservation.get("Instances", [])
        if len(found) >= MAX_LISTED:
            break
    return found[:MAX_LISTED]


def _statuses(client: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    response = client.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
    return {s["InstanceId"]: s for s in response.get("InstanceStatuses", [])}


def _instance_row(instance: dict[str, Any], status: dict[str, Any]) -> list[str]:
    events = ", ".join(e.get("Code", "") for e in status.get("Events") or [])
    return [
        instance["InstanceId"],
        tag_value(instance.get("Tags")),
        instance.get("InstanceType", ""),
        instance.get("State", {}).get("Name", ""),
        instance.get("Placement", {}).get("AvailabilityZone", ""),
        (status.get("SystemStatus") or {}).get("Status", "-"),
        (status.get("InstanceStatus") or {}).get("Status", "-"),
        events or "-",
    ]


def instance_findings(report: Report, instance: dict[str, Any], status: dict[str, Any]) -> None:
    iid = instance["InstanceId"]
    label = f"{iid} ({tag_value(instance.get('Tags'))})" if tag_value(instance.get("Tags")) else iid
    state = instance.get("State", {}).get("Name", "")
    system = (status.get("SystemStatus") or {}).get("Status")
    own = (status.get("InstanceStatus") or {}).get("Status")
    if system == "impaired":
        report.crit(
            _(
                "{label}: system status check failed (impaired): the AWS host or its network is broken",
                label=label,
            ),
            _("stop and start the instance (not reboot) to move it to healthy hardware"),
        )
    if own == "impaired":
        report.crit(
            _("{label}: instance status check failed (impaired): the OS does not answer", label=label),
            _(
                "get the console output/screenshot; check disk (磁盘空间不足) and memory (内存溢出); reboot the instance"
            ),
        )
    if state in ("stopped", "stopping", "shutting-down", "terminated"):
        report.warn(
            _("{label} is {state}", label=label, state=state),
            _("if it should serve traffic, start it; {fix}", fix=_(Fix.HTTP_502)),
        )
    elif "insufficient-data" in (system, own):
        report.warn(
            _("{label}: status checks have insufficient data", label=label), _("look again in a few minutes")
        )
    for event in status.get("Events") or []:
        when = event.get("NotBefore")
        since = _("from {when}", when=when.strftime("%Y-%m-%d %H:%M UTC")) if when else ""
        report.warn(
            _(
                "{label}: scheduled {code} {since} — {description}",
                label=label,
                code=event.get("Code"),
                since=since,
                description=event.get("Description", ""),
            ),
            _("plan it: stop/start before the date, or move the load off the instance"),
        )
