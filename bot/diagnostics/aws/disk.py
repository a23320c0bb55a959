"""Disk use per instance and mount point — the guide's `df -h` on a host — from the CloudWatch agent.

The agent's `disk` plugin publishes `disk_used_percent` in the `CWAgent` namespace with the
dimensions InstanceId, path, device and fstype (one series per filesystem). ListMetrics finds every
filesystem an instance reports, one GetMetricData call reads their latest values. At 80 % a
filesystem is flagged ⚠️, at 90 % ❌, with the guide's cleanups and the volume grow that follows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnostics.aws.client import INSTANCE_ID, aws, validate_ids
from bot.diagnostics.base import CheckContext, Level, Report, UsageError, format_table
from bot.i18n import N_, _

NAMESPACE = "CWAgent"
METRIC = "disk_used_percent"
WARN, CRIT = 80.0, 90.0
_QUERIES_PER_CALL = 500  # GetMetricData's limit
_DEFAULT_MINUTES, _MAX_MINUTES = 15, 24 * 60


def _minutes(options: dict[str, str]) -> int:
    raw = options.get("minutes", str(_DEFAULT_MINUTES))
    if not raw.isdigit() or not 1 <= int(raw) <= _MAX_MINUTES:
        raise UsageError(
            _(
                "`minutes=` takes a whole number from 1 to {high}, not `{raw}`.",
                high=_MAX_MINUTES,
                raw=raw[:20],
            )
        )
    return int(raw)


def validate_disk(args: list[str], options: dict[str, str]) -> None:
    if not args:
        raise UsageError(_("Name one or more instances, e.g. `/diag aws disk i-0123456789abcdef0`."))
    validate_ids(args, INSTANCE_ID, N_("instance id"), "i-0123456789abcdef0")
    _minutes(options)


def _fix() -> str:
    return _(
        "free space on the host: old logs (`journalctl --vacuum-time=7d`, "
        "`find /var/log -name '*.log' -mtime +30 -delete`), `docker system prune` where Docker runs; "
        "or grow the volume: `/remediate aws ebs-grow <volume> <GiB>`, then `resize2fs` (磁盘空间不足)"
    )


def _series(client: Any, instance: str) -> list[list[dict[str, str]]]:
    """The dimension sets of every filesystem `instance` reports, each once (some endpoints repeat a
    metric per datapoint), in a stable order."""
    found: dict[tuple[tuple[str, str], ...], list[dict[str, str]]] = {}
    for page in client.get_paginator("list_metrics").paginate(
        Namespace=NAMESPACE, MetricName=METRIC, Dimensions=[{"Name": "InstanceId", "Value": instance}]
    ):
        for metric in page.get("Metrics", []):
            dims = metric.get("Dimensions", [])
            found.setdefault(tuple(sorted((d["Name"], d["Value"]) for d in dims)), dims)
    return [found[key] for key in sorted(found)]


def _latest(client: Any, series: list[list[dict[str, str]]], minutes: int) -> list[float | None]:
    end = datetime.now(UTC)
    values: list[float | None] = []
    for start in range(0, len(series), _QUERIES_PER_CALL):
        chunk = series[start : start + _QUERIES_PER_CALL]
        response = client.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": f"m{index}",
                    "ReturnData": True,
                    "MetricStat": {
                        "Metric": {"Namespace": NAMESPACE, "MetricName": METRIC, "Dimensions": dims},
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
                for index, dims in enumerate(chunk)
            ],
            StartTime=end - timedelta(minutes=minutes),
            EndTime=end,
            ScanBy="TimestampDescending",
        )
        by_id = {r["Id"]: r.get("Values") or [] for r in response.get("MetricDataResults", [])}
        values += [(by_id.get(f"m{i}") or [None])[0] for i in range(len(chunk))]
    return values


def _dimension(dims: list[dict[str, str]], name: str) -> str:
    return next((d["Value"] for d in dims if d.get("Name") == name), "")


def disk(ctx: CheckContext) -> Report:
    """`disk_used_percent` of each filesystem of the named instances, latest value of the window."""
    instances = validate_ids(ctx.args, INSTANCE_ID, N_("instance id"), "i-0123456789abcdef0")
    minutes = _minutes(ctx.options)
    report, rows, data = Report(), [], {}
    with aws(ctx, "cloudwatch") as client:
        for instance in instances:
            series = _series(client, instance)
            if not series:
                report.warn(
                    _("{instance}: no `{metric}` in CloudWatch", instance=instance, metric=METRIC),
                    _(
                        "install the CloudWatch agent with the `disk` measurement (used_percent) on the "
                        "instance, or look on the host: `df -h`"
                    ),
                )
                continue
            for dims, value in zip(series, _latest(client, series, minutes), strict=True):
                path = _dimension(dims, "path") or "?"
                device, fstype = _dimension(dims, "device"), _dimension(dims, "fstype")
                if value is None:
                    rows.append([instance, path, device, fstype, "-"])
                    report.warn(
                        _("{instance} {path}: no datapoint in the last {minutes} min",
                          instance=instance, path=path, minutes=minutes),
                        _("the agent stopped reporting: is it running (`amazon-cloudwatch-agent-ctl -a status`)?"),
                    )  # fmt: skip
                    continue
                data.setdefault(instance, {})[path] = round(value, 1)
                rows.append([instance, path, device, fstype, f"{value:.0f}%"])
                if value >= WARN:
                    report.add(
                        Level.CRIT if value >= CRIT else Level.WARN,
                        _("{instance} {path}: {percent}% used ({device})",
                          instance=instance, path=path, percent=round(value), device=device or fstype or "?"),
                        _fix(),
                    )  # fmt: skip
    if not report.findings:
        report.ok(
            _("{count} filesystems on {instances} instances below {warn}% disk use",
              count=len(rows), instances=len(instances), warn=round(WARN))
        )  # fmt: skip
    report.detail = format_table(["INSTANCE", "PATH", "DEVICE", "FSTYPE", "USE%"], rows)
    report.data["disk_percent"] = data
    return report
