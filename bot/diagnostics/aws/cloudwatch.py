"""CloudWatch statistics of one metric, judged against the guide's thresholds where it has them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnostics.aws.client import aws
from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Level,
    Report,
    UsageError,
    format_table,
    level_for,
)
from bot.i18n import N_, _

_NAMESPACE = re.compile(r"^[A-Za-z0-9_.\-/#:]{1,255}$")
_METRIC = re.compile(r"^[A-Za-z0-9_.\-/#: ]{1,255}$")
_DIMENSION_NAME = re.compile(r"^[A-Za-z0-9_.\-/#:@]{1,255}$")
_STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"^p\d{1,2}(?:\.\d{1,2})?$")
_CLOUDWATCH_OPTIONS = ("period", "minutes", "stat")
_MAX_DATAPOINTS = 1440  # the GetMetricStatistics limit per call


def _int_option(options: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = options.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise UsageError(
            _(
                "`{name}=` takes a whole number from {low} to {high}, not `{raw}`.",
                name=name,
                low=low,
                high=high,
                raw=raw,
            )
        )
    return int(raw)


def _metric_query(args: list[str], options: dict[str, str]) -> dict[str, Any]:
    """The GetMetricStatistics parameters for `<namespace> <metric> [Name=Value…] [period=] [minutes=] [stat=]`."""
    if len(args) < 2:
        raise UsageError(
            _("Name a namespace and a metric, e.g. `AWS/EC2 CPUUtilization InstanceId=i-0abc…`.")
        )
    namespace, metric = args[0], args[1]
    if not _NAMESPACE.match(namespace):
        raise UsageError(_("`{name}` is not a CloudWatch namespace (like `AWS/EC2`).", name=namespace[:80]))
    if not _METRIC.match(metric):
        raise UsageError(
            _("`{name}` is not a CloudWatch metric name (like `CPUUtilization`).", name=metric[:80])
        )
    period = _int_option(options, "period", 300, 1, 86400)
    if period % 60 and period not in (1, 5, 10, 30):
        raise UsageError(_("`period=` is 1, 5, 10, 30 or a multiple of 60 seconds."))
    minutes = _int_option(options, "minutes", 60, 1, 60 * 24 * 15)
    if minutes * 60 // period > _MAX_DATAPOINTS:
        raise UsageError(
            _("That is more than {n} datapoints: raise `period=` or lower `minutes=`.", n=_MAX_DATAPOINTS)
        )
    stat = options.get("stat", "Average")
    stat = next((s for s in _STATISTICS if s.lower() == stat.lower()), stat)
    if stat not in _STATISTICS and not _PERCENTILE.match(stat):
        raise UsageError(
            _(
                "`stat=` is one of {statistics} or a percentile like p99, not `{stat}`.",
                statistics=", ".join(_STATISTICS),
                stat=stat,
            )
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
                _(
                    "`{pair}` is not a dimension: write Name=Value, e.g. InstanceId=i-0abc.",
                    pair=f"{name[:60]}={value[:60]}",
                )
            )
        dimensions.append({"Name": name, "Value": value})
    if len(dimensions) > 30:
        raise UsageError(_("CloudWatch takes at most 30 dimensions."))
    return dimensions


def validate_cloudwatch(args: list[str], options: dict[str, str]) -> None:
    _metric_query(args, options)


# ------------------------------------------------------------------------------------ cloudwatch
_PERCENT_METRICS = {
    "CPUUtilization": Fix.HTTP_503,
    "MemoryUtilization": Fix.OOM,
    "mem_used_percent": Fix.OOM,
    "DiskSpaceUtilization": Fix.DISK,
    "disk_used_percent": Fix.DISK,
}
_COUNT_METRICS = {
    "StatusCheckFailed": (Level.CRIT, N_("/diag aws ec2 <instance> shows which check fails")),
    "StatusCheckFailed_System": (
        Level.CRIT,
        N_("stop and start the instance to move it to healthy hardware"),
    ),
    "StatusCheckFailed_Instance": (Level.CRIT, N_("the OS does not answer: check disk and memory, reboot")),
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
    report.data.update(metric=query["metric"], stat=stat, values=[v for _t, v, _u in values])
    return report


def _value(point: dict[str, Any], stat: str) -> float | None:
    value = point.get(stat) if stat in _STATISTICS else (point.get("ExtendedStatistics") or {}).get(stat)
    return float(value) if value is not None else None


def _metric_findings(
    report: Report, query: dict[str, Any], values: list[tuple[datetime, float, str]]
) -> None:
    dims = " ".join(f"{d['Name']}={d['Value']}" for d in query["dimensions"])
    what = f"{query['namespace']} {query['metric']}{' ' + dims if dims else ''}"
    window = _("the last {minutes} min", minutes=query["minutes"])
    if not values:
        report.warn(
            _("no datapoints for {what} in {window}", what=what, window=window),
            _(
                "names and dimensions are case-sensitive; list what exists with "
                "`aws cloudwatch list-metrics --namespace {namespace}`",
                namespace=query["namespace"],
            ),
        )
        return
    latest, unit = values[-1][1], values[-1][2]
    low, high = min(v for _t, v, _u in values), max(v for _t, v, _u in values)
    summary = _(
        "{stat} {latest} {unit} (latest), min {low}, max {high} over {window}",
        stat=query["stat"],
        latest=f"{latest:g}",
        unit=unit,
        low=f"{low:g}",
        high=f"{high:g}",
        window=window,
    )
    metric = query["metric"]
    if metric in _PERCENT_METRICS:
        level = level_for(latest / 100.0, warn=0.8, crit=0.9)
        report.add(level, f"{what}: {summary}", _PERCENT_METRICS[metric])
    elif metric in _COUNT_METRICS and high > 0:
        level, fix = _COUNT_METRICS[metric]
        report.add(level, f"{what}: {summary}", fix)
    else:
        report.ok(f"{what}: {summary}")
