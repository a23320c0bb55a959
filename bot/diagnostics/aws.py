"""`/diag aws`: EC2 state and status checks, EBS volumes and their modifications, CloudWatch statistics.

Read-only Describe*/Get* calls through boto3, one client per target and service, built on first
use (boto3 is slow to import, the bot must start fast). The guide's disk section grows an EBS volume
by hand (`aws ec2 modify-volume`, then `resize2fs`): `ebs` shows how far such a change has got.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Level,
    Report,
    UsageError,
    clients,
    format_table,
    level_for,
    masked,
)

# What the bot's IAM policy needs, for the deploy docs.
IAM_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeVolumes",
    "ec2:DescribeVolumesModifications",
    "cloudwatch:GetMetricStatistics",
)

_INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_VOLUME_ID = re.compile(r"^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.\-/#:]{1,255}$")
_METRIC = re.compile(r"^[A-Za-z0-9_.\-/#: ]{1,255}$")
_DIMENSION_NAME = re.compile(r"^[A-Za-z0-9_.\-/#:@]{1,255}$")
_STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"^p\d{1,2}(?:\.\d{1,2})?$")
_CLOUDWATCH_OPTIONS = ("period", "minutes", "stat")
_MAX_IDS = 50
_MAX_LISTED = 100
_MAX_DATAPOINTS = 1440  # the GetMetricStatistics limit per call

_NOT_FOUND = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "InvalidVolume.NotFound",
              "InvalidVolumeID.Malformed", "InvalidVolumeModification.NotFound")  # fmt: skip
_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure")


# ---------------------------------------------------------------------------------- validation
def _validate_ids(args: list[str], pattern: re.Pattern[str], what: str, example: str) -> list[str]:
    if len(args) > _MAX_IDS:
        raise UsageError(f"At most {_MAX_IDS} {what}s at a time.")
    for value in args:
        if not pattern.match(value):
            raise UsageError(f"`{value[:80]}` is not an {what} (like `{example}`).")
    return list(dict.fromkeys(args))


def _validate_ec2(args: list[str], options: dict[str, str]) -> None:
    _validate_ids(args, _INSTANCE_ID, "instance id", "i-0123456789abcdef0")


def _validate_ebs(args: list[str], options: dict[str, str]) -> None:
    _validate_ids(args, _VOLUME_ID, "EBS volume id", "vol-0123456789abcdef0")


def _int_option(options: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = options.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise UsageError(f"`{name}=` takes a whole number from {low} to {high}, not `{raw}`.")
    return int(raw)


def _metric_query(args: list[str], options: dict[str, str]) -> dict[str, Any]:
    """The GetMetricStatistics parameters for `<namespace> <metric> [Name=Value…] [period=] [minutes=] [stat=]`."""
    if len(args) < 2:
        raise UsageError("Name a namespace and a metric, e.g. `AWS/EC2 CPUUtilization InstanceId=i-0abc…`.")
    namespace, metric = args[0], args[1]
    if not _NAMESPACE.match(namespace):
        raise UsageError(f"`{namespace[:80]}` is not a CloudWatch namespace (like `AWS/EC2`).")
    if not _METRIC.match(metric):
        raise UsageError(f"`{metric[:80]}` is not a CloudWatch metric name (like `CPUUtilization`).")
    period = _int_option(options, "period", 300, 1, 86400)
    if period % 60 and period not in (1, 5, 10, 30):
        raise UsageError("`period=` is 1, 5, 10, 30 or a multiple of 60 seconds.")
    minutes = _int_option(options, "minutes", 60, 1, 60 * 24 * 15)
    if minutes * 60 // period > _MAX_DATAPOINTS:
        raise UsageError(
            f"That is more than {_MAX_DATAPOINTS} datapoints: raise `period=` or lower `minutes=`."
        )
    stat = options.get("stat", "Average")
    stat = next((s for s in _STATISTICS if s.lower() == stat.lower()), stat)
    if stat not in _STATISTICS and not _PERCENTILE.match(stat):
        raise UsageError(
            f"`stat=` is one of {', '.join(_STATISTICS)} or a percentile like p99, not `{stat}`."
        )
    return {"namespace": namespace, "metric": metric, "period": period, "minutes": minutes, "stat": stat,
            "dimensions": _dimensions(args[2:], options)}  # fmt: skip


def _dimensions(args: list[str], options: dict[str, str]) -> list[dict[str, str]]:
    # Dimensions are Name=Value words. The grammar files lowercase ones (`service=web`) under options.
    pairs = [arg.split("=", 1) if "=" in arg else [arg, ""] for arg in args]
    pairs += [[k, v] for k, v in options.items() if k not in _CLOUDWATCH_OPTIONS]
    dimensions = []
    for name, value in pairs:
        if not _DIMENSION_NAME.match(name) or not value or len(value) > 1024 or not value.isprintable():
            raise UsageError(
                f"`{name[:60]}={value[:60]}` is not a dimension: write Name=Value, e.g. InstanceId=i-0abc."
            )
        dimensions.append({"Name": name, "Value": value})
    if len(dimensions) > 30:
        raise UsageError("CloudWatch takes at most 30 dimensions.")
    return dimensions


def _validate_cloudwatch(args: list[str], options: dict[str, str]) -> None:
    _metric_query(args, options)


# -------------------------------------------------------------------------------- AWS access
def _new_client(target: Any, service: str, timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=target.profile, region_name=target.region)
    config = Config(
        connect_timeout=min(timeout, 5.0),
        read_timeout=timeout,
        # One retry for throttling; more would outlive the check's timeout.
        retries={"mode": "standard", "total_max_attempts": 2},
        user_agent_extra="warroom-diag",
    )
    return session.client(service, endpoint_url=target.endpoint_url, config=config)


@contextmanager
def aws(ctx: CheckContext, service: str) -> Iterator[Any]:
    """The target's client for `service`; AWS failures become UsageError / CheckFailed / TimeoutError."""
    from botocore import exceptions as bx

    target = ctx.target
    if target is None:
        raise UsageError("No AWS target configured: add one under `targets.aws` in the YAML policy.")
    key = ("aws", ctx.target_name, target.region, target.profile, target.endpoint_url, service, ctx.timeout)
    where = f"{service} in {target.region}"
    try:
        yield clients.get(key, lambda: _new_client(target, service, ctx.timeout))
    except bx.ClientError as exc:
        raise _client_error(exc, where) from None
    except (bx.ReadTimeoutError, bx.ConnectTimeoutError):
        raise TimeoutError(f"AWS {where} did not answer within {ctx.timeout:g} s") from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound) as exc:
        raise CheckFailed(
            f"No usable AWS credentials for target {ctx.target_name}: {exc}",
            "give the bot an IAM role (instance profile / IRSA) or set `profile:` on the target",
        ) from None
    except bx.EndpointConnectionError as exc:
        raise CheckFailed(f"Can't reach AWS {where}: {exc}", Fix.NETWORK) from None


def _client_error(exc: Any, where: str) -> Exception:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", "Error"), error.get("Message", "")
    if code in _NOT_FOUND:
        return UsageError(f"{message or code}.")
    if code in _DENIED or code.startswith("AccessDenied"):
        return CheckFailed(
            f"AWS denied {exc.operation_name} ({code}) on {where}",
            f"allow it in the bot's IAM policy: {', '.join(IAM_ACTIONS)}",
        )
    return CheckFailed(f"AWS {where} answered {code}: {message}")


def _tag(tags: list[dict[str, str]] | None, key: str = "Name") -> str:
    return next((t["Value"] for t in tags or [] if t.get("Key") == key), "")


def _ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = max(0, int((datetime.now(UTC) - when.astimezone(UTC)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


# ------------------------------------------------------------------------------------------- ec2
def ec2(ctx: CheckContext) -> Report:
    """EC2 instances: state, system and instance status checks (impaired flagged), scheduled events."""
    ids = _validate_ids(ctx.args, _INSTANCE_ID, "instance id", "i-0123456789abcdef0")
    name = ctx.options.get("name")
    with aws(ctx, "ec2") as client:
        instances = _instances(client, ids, name)
        found = [i["InstanceId"] for i in instances]
        statuses = _statuses(client, found) if found else {}
    report = Report()
    rows = []
    for instance in instances:
        status = statuses.get(instance["InstanceId"], {})
        _instance_findings(report, instance, status)
        rows.append(_instance_row(instance, status))
    if not instances:
        report.warn(
            "no EC2 instances found" + (f" named `{name}`" if name else ""), "check the target's region"
        )
    elif not report.findings:
        report.ok(f"{len(instances)} instances running, all status checks passed")
    if len(instances) >= _MAX_LISTED and not ids:
        report.ok(f"showing the first {_MAX_LISTED} instances: name some ids or use name=")
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
        if len(found) >= _MAX_LISTED:
            break
    return found[:_MAX_LISTED]


def _statuses(client: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    response = client.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
    return {s["InstanceId"]: s for s in response.get("InstanceStatuses", [])}


def _instance_row(instance: dict[str, Any], status: dict[str, Any]) -> list[str]:
    events = ", ".join(e.get("Code", "") for e in status.get("Events") or [])
    return [
        instance["InstanceId"],
        _tag(instance.get("Tags")),
        instance.get("InstanceType", ""),
        instance.get("State", {}).get("Name", ""),
        instance.get("Placement", {}).get("AvailabilityZone", ""),
        (status.get("SystemStatus") or {}).get("Status", "-"),
        (status.get("InstanceStatus") or {}).get("Status", "-"),
        events or "-",
    ]


def _instance_findings(report: Report, instance: dict[str, Any], status: dict[str, Any]) -> None:
    iid = instance["InstanceId"]
    label = f"{iid} ({_tag(instance.get('Tags'))})" if _tag(instance.get("Tags")) else iid
    state = instance.get("State", {}).get("Name", "")
    system = (status.get("SystemStatus") or {}).get("Status")
    own = (status.get("InstanceStatus") or {}).get("Status")
    if system == "impaired":
        report.crit(
            f"{label}: system status check failed (impaired): the AWS host or its network is broken",
            "stop and start the instance (not reboot) to move it to healthy hardware",
        )
    if own == "impaired":
        report.crit(
            f"{label}: instance status check failed (impaired): the OS does not answer",
            "get the console output/screenshot; check disk (磁盘空间不足) and memory (内存溢出); reboot the instance",
        )
    if state in ("stopped", "stopping", "shutting-down", "terminated"):
        report.warn(f"{label} is {state}", f"if it should serve traffic, start it; {Fix.HTTP_502}")
    elif "insufficient-data" in (system, own):
        report.warn(f"{label}: status checks have insufficient data", "look again in a few minutes")
    for event in status.get("Events") or []:
        when = event.get("NotBefore")
        report.warn(
            f"{label}: scheduled {event.get('Code')} {('from ' + when.strftime('%Y-%m-%d %H:%M UTC')) if when else ''}"
            f" — {event.get('Description', '')}",
            "plan it: stop/start before the date, or move the load off the instance",
        )


# ------------------------------------------------------------------------------------------- ebs
def ebs(ctx: CheckContext) -> Report:
    """EBS volumes: size, type, state, attachment, and the progress of modify-volume changes."""
    ids = _validate_ids(ctx.args, _VOLUME_ID, "EBS volume id", "vol-0123456789abcdef0")
    with aws(ctx, "ec2") as client:
        volumes = _volumes(client, ids)
        modifications = _modifications(client, [v["VolumeId"] for v in volumes]) if volumes else {}
    report = Report()
    for volume in volumes:
        _volume_findings(report, volume, modifications.get(volume["VolumeId"]))
    if not volumes:
        report.warn("no EBS volumes found", "check the target's region")
    elif not any(f.level is not Level.OK for f in report.findings):
        report.ok(f"{len(volumes)} volumes, {sum(v.get('Size', 0) for v in volumes)} GiB, none in error")
    report.detail = format_table(
        ["VOLUME", "NAME", "SIZE", "TYPE", "IOPS", "STATE", "ATTACHED TO", "MODIFICATION"],
        [_volume_row(v, modifications.get(v["VolumeId"])) for v in volumes],
    )
    report.data["volumes"] = {
        v["VolumeId"]: {"size": v.get("Size"), "state": v.get("State"),
                        "modification": (modifications.get(v["VolumeId"]) or {}).get("ModificationState"),
                        "progress": (modifications.get(v["VolumeId"]) or {}).get("Progress")}
        for v in volumes
    }  # fmt: skip
    return report


def _volumes(client: Any, ids: list[str]) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"VolumeIds": ids} if ids else {}
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_volumes").paginate(**kwargs):
        found += page.get("Volumes", [])
        if len(found) >= _MAX_LISTED:
            break
    return found[:_MAX_LISTED]


def _modifications(client: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest modification per volume. A filter, not VolumeIds: with VolumeIds, AWS fails the whole
    call when one of the volumes was never modified."""
    response = client.describe_volumes_modifications(Filters=[{"Name": "volume-id", "Values": ids}])
    latest: dict[str, dict[str, Any]] = {}
    for mod in response.get("VolumesModifications", []):
        vid = mod.get("VolumeId")
        if vid in ids and (vid not in latest or _started(mod) > _started(latest[vid])):
            latest[vid] = mod
    return latest


def _started(mod: dict[str, Any]) -> datetime:
    start = mod.get("StartTime")
    return start.astimezone(UTC) if isinstance(start, datetime) else datetime.min.replace(tzinfo=UTC)


def _modification_text(mod: dict[str, Any] | None) -> str:
    if not mod:
        return "-"
    state, progress = mod.get("ModificationState", "?"), mod.get("Progress")
    sizes = f"{mod.get('OriginalSize')}→{mod.get('TargetSize')} GiB" if mod.get("TargetSize") else ""
    return f"{state} {progress}% {sizes}".strip() if progress is not None else f"{state} {sizes}".strip()


def _volume_row(volume: dict[str, Any], mod: dict[str, Any] | None) -> list[str]:
    attached = ", ".join(f"{a.get('InstanceId')}:{a.get('Device')}" for a in volume.get("Attachments") or [])
    return [
        volume["VolumeId"],
        _tag(volume.get("Tags")),
        f"{volume.get('Size')} GiB",
        volume.get("VolumeType", ""),
        str(volume.get("Iops", "-")),
        volume.get("State", ""),
        attached or "-",
        _modification_text(mod),
    ]


_RESIZE = "extend the filesystem: `sudo resize2fs /dev/xvda1` (the guide's step; use the volume's partition)"


def volume_modification_finding(volume_id: str, mod: dict[str, Any]) -> tuple[Level, str, str | None] | None:
    """What a modify-volume's state means for the on-call engineer (public: unit-tested on its own,
    because moto completes every modification at once)."""
    state, progress = mod.get("ModificationState"), mod.get("Progress", 0)
    sizes = f"{mod.get('OriginalSize')} → {mod.get('TargetSize')} GiB"
    if state == "modifying":
        return (
            Level.WARN,
            f"{volume_id} is being modified ({sizes}): modifying, {progress}%",
            f"wait for 'optimizing', then {_RESIZE}",
        )
    if state == "optimizing":
        return (
            Level.OK,
            f"{volume_id} grown ({sizes}), optimizing {progress}%: the new size is usable — {_RESIZE}",
            None,
        )
    if state == "failed":
        reason = mod.get("StatusMessage") or "no reason given"
        return (
            Level.CRIT,
            f"{volume_id}: modification {sizes} failed: {reason}",
            f"retry after the 6-hour cooldown: /remediate aws ebs-grow {volume_id} {mod.get('TargetSize')}",
        )
    if state == "completed" and _started(mod) > datetime.now(UTC) - timedelta(days=1):
        return Level.OK, f"{volume_id} grown ({sizes}), completed — if not done yet, {_RESIZE}", None
    return None


def _volume_findings(report: Report, volume: dict[str, Any], mod: dict[str, Any] | None) -> None:
    vid = volume["VolumeId"]
    if volume.get("State") == "error":
        report.crit(
            f"{vid} is in state error: its data may be unreadable", "restore it from the latest snapshot"
        )
    finding = volume_modification_finding(vid, mod) if mod else None
    if finding:
        report.add(*finding)


# ------------------------------------------------------------------------------------ cloudwatch
_PERCENT_METRICS = {
    "CPUUtilization": Fix.HTTP_503,
    "MemoryUtilization": Fix.OOM,
    "mem_used_percent": Fix.OOM,
    "DiskSpaceUtilization": Fix.DISK,
    "disk_used_percent": Fix.DISK,
}
_COUNT_METRICS = {
    "StatusCheckFailed": (Level.CRIT, "/diag aws ec2 <instance> shows which check fails"),
    "StatusCheckFailed_System": (Level.CRIT, "stop and start the instance to move it to healthy hardware"),
    "StatusCheckFailed_Instance": (Level.CRIT, "the OS does not answer: check disk and memory, reboot"),
    "HTTPCode_Target_5XX_Count": (Level.WARN, Fix.HTTP_502),
    "HTTPCode_ELB_5XX_Count": (Level.WARN, Fix.HTTP_502),
    "HTTPCode_ELB_502_Count": (Level.WARN, Fix.HTTP_502),
    "HTTPCode_ELB_503_Count": (Level.WARN, Fix.HTTP_503),
    "HTTPCode_ELB_504_Count": (Level.WARN, Fix.HTTP_504),
}


def cloudwatch(ctx: CheckContext) -> Report:
    """CloudWatch GetMetricStatistics over the last N minutes, latest / min / max, known metrics judged."""
    query = _metric_query(ctx.args, ctx.options)
    end = datetime.now(UTC)
    kwargs: dict[str, Any] = {
        "Namespace": query["namespace"],
        "MetricName": query["metric"],
        "Dimensions": query["dimensions"],
        "StartTime": end - timedelta(minutes=query["minutes"]),
        "EndTime": end,
        "Period": query["period"],
    }
    stat = query["stat"]
    kwargs["Statistics" if stat in _STATISTICS else "ExtendedStatistics"] = [stat]
    with aws(ctx, "cloudwatch") as client:
        response = client.get_metric_statistics(**kwargs)
    points = sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])
    values = [(p["Timestamp"], _value(p, stat), p.get("Unit", "")) for p in points]
    values = [v for v in values if v[1] is not None]
    report = Report()
    _metric_findings(report, query, values)
    report.detail = format_table(
        ["TIME (UTC)", stat.upper(), "UNIT"],
        [[t.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), f"{v:g}", unit] for t, v, unit in values],
    )
    report.data.update(metric=query["metric"], stat=stat, values=[v for _, v, _ in values])
    return report


def _value(point: dict[str, Any], stat: str) -> float | None:
    value = point.get(stat) if stat in _STATISTICS else (point.get("ExtendedStatistics") or {}).get(stat)
    return float(value) if value is not None else None


def _metric_findings(
    report: Report, query: dict[str, Any], values: list[tuple[datetime, float, str]]
) -> None:
    dims = " ".join(f"{d['Name']}={d['Value']}" for d in query["dimensions"])
    what = f"{query['namespace']} {query['metric']}{' ' + dims if dims else ''}"
    window = f"the last {query['minutes']} min"
    if not values:
        report.warn(
            f"no datapoints for {what} in {window}",
            "names and dimensions are case-sensitive; list what exists with "
            f"`aws cloudwatch list-metrics --namespace {query['namespace']}`",
        )
        return
    latest, unit = values[-1][1], values[-1][2]
    low, high = min(v for _, v, _ in values), max(v for _, v, _ in values)
    summary = f"{query['stat']} {latest:g} {unit} (latest), min {low:g}, max {high:g} over {window}"
    metric = query["metric"]
    if metric in _PERCENT_METRICS:
        level = level_for(latest / 100.0, warn=0.8, crit=0.9)
        report.add(level, f"{what}: {summary}", _PERCENT_METRICS[metric])
    elif metric in _COUNT_METRICS and high > 0:
        level, fix = _COUNT_METRICS[metric]
        report.add(level, f"{what}: {summary}", fix)
    else:
        report.ok(f"{what}: {summary}")


# --------------------------------------------------------------------------------------- adapter


ADAPTER = Adapter(
        name="aws",
        summary="AWS: EC2 status checks, EBS volumes and modifications, CloudWatch metrics (read-only)",
        target_kind="aws",
        default_check="ec2",
        checks={
            "ec2": Check("ec2", masked(ec2), "instance state and status checks, impaired flagged",
                         usage="[instance-id…] [name=<Name tag>]", guide="aws ec2 describe-instance-status",
                         max_args=_MAX_IDS, options=("name",), validate=_validate_ec2),
            "ebs": Check("ebs", masked(ebs), "EBS volumes and modify-volume progress",
                         usage="[volume-id…]", guide="aws ec2 describe-volumes-modifications",
                         max_args=_MAX_IDS, options=(), validate=_validate_ebs),
            "cloudwatch": Check("cloudwatch", masked(cloudwatch), "metric statistics over the last minutes",
                                usage="<namespace> <metric> [Name=Value…] [period=300] [minutes=60] [stat=Average]",
                                guide="aws cloudwatch get-metric-statistics", min_args=2,
                                options=None,  # lowercase dimension names arrive as options
                                validate=_validate_cloudwatch),
        },
    )  # fmt: skip
