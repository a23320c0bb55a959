"""`/diag prom`: PromQL against a Prometheus of `targets.prom` — the guide's 内存使用趋势 (memory trend).

`query <promql>` is an instant query (the series and their values, top 20); `trend <promql> [since=1h]`
a range query drawn as a PNG chart (matplotlib's Agg backend: no display needed), with each series'
min / max / last in the text, so the figure's numbers reach people who cannot see the image. The chart
rides on `Report.charts` (never `data`, which is audited); the handler uploads it to the channel.
PromQL is passed as an URL parameter (httpx encodes it); it is never spliced into anything else.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Report,
    UsageError,
    format_table,
)
from bot.diagnostics.base import parse_seconds as _seconds
from bot.i18n import N_, _

MAX_QUERY = 1000
MAX_SERIES = 20
POINTS = 240  # samples per series in a trend: enough for a chart, small for the API


def _query(args: list[str]) -> str:
    text = " ".join(args).strip()
    if not text:
        raise UsageError(_("Which PromQL? Type e.g. `/diag prom query 'up'`."))
    if len(text) > MAX_QUERY or any(ch in text for ch in "\n\r\0"):
        raise UsageError(_("The PromQL must be one line of at most {n} characters.", n=MAX_QUERY))
    return text


def _since(options: dict[str, str]) -> float:
    since = _seconds("since", options.get("since", "1h"))
    if not 60 <= since <= 7 * 86400:
        raise UsageError(_("`since=` takes 1m to 7d."))
    return since


def _validate(args: list[str], options: dict[str, str]) -> None:
    _query(args)
    if "since" in options:
        _since(options)


def _get(ctx: CheckContext, path: str, params: dict[str, Any]) -> Any:
    import httpx

    target = ctx.target
    if target is None:
        raise UsageError(_("No Prometheus configured: add one under `targets.prom` in the YAML policy."))
    token = os.environ.get(target.token_env) if target.token_env else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(
            f"{target.url.rstrip('/')}{path}", params=params, headers=headers, timeout=ctx.timeout
        )
    except httpx.TimeoutException:
        raise TimeoutError(
            _("Prometheus did not answer within {limit} s", limit=f"{ctx.timeout:g}")
        ) from None
    except httpx.HTTPError as exc:
        raise CheckFailed(
            _("Can't reach Prometheus at {url}: {error}", url=target.url, error=exc), Fix.DEPENDENCY
        ) from None
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(
            _("Prometheus answered {status} without JSON", status=response.status_code)
        ) from None
    if body.get("status") != "success":
        if response.status_code == 400:
            raise UsageError(_("Prometheus refused the query: {error}.", error=body.get("error", "?")))
        raise CheckFailed(
            _(
                "Prometheus answered {status}: {error}",
                status=response.status_code,
                error=body.get("error", "?"),
            )
        )
    return body["data"]


def _label(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else (name or "{}")


def _number(value: float) -> str:
    return f"{value:.4g}"


def query(ctx: CheckContext) -> Report:
    promql = _query(ctx.args)
    data = _get(ctx, "/api/v1/query", {"query": promql})
    kind, result = data.get("resultType"), data.get("result") or []
    report = Report()
    if kind == "scalar" or kind == "string":
        report.ok(f"{promql} = {result[1]}")
        report.data = {"query": promql, "type": kind, "value": result[1]}
        return report
    rows = [[_label(s.get("metric") or {}), _number(float(s["value"][1]))] for s in result[:MAX_SERIES]]
    if not result:
        report.warn(
            _("`{query}` returned no series (a typo in a label, or nothing scraped yet)", query=promql)
        )
    else:
        more = " " + _("(first {n} shown)", n=MAX_SERIES) if len(result) > MAX_SERIES else ""
        report.ok(_("`{query}`: {n} series{more}", query=promql, n=len(result), more=more))
    report.detail = format_table(["series", "value"], rows, max_width=100)
    report.data = {"query": promql, "type": kind, "series": len(result),
                   "values": {row[0]: float(row[1]) for row in rows}}  # fmt: skip
    return report


def _chart(promql: str, series: list[tuple[str, list[tuple[float, float]]]], since: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display; set before pyplot loads
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4), dpi=100)  # a Figure, not pyplot: no global state across threads
    axes = figure.subplots()
    from datetime import UTC, datetime

    for label, points in series[:10]:
        axes.plot(
            [datetime.fromtimestamp(t, UTC) for t, _v in points], [v for _t, v in points], label=label[:60]
        )
    axes.set_title(promql[:90], fontsize=9)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes.grid(alpha=0.3)
    if len(series) > 1:
        axes.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def trend(ctx: CheckContext) -> Report:
    promql, since = _query(ctx.args), _since(ctx.options)
    end = time.time()
    step = max(since / POINTS, 1.0)
    data = _get(ctx, "/api/v1/query_range", {"query": promql, "start": end - since, "end": end, "step": step})
    series = [(_label(s.get("metric") or {}), [(float(t), float(v)) for t, v in s.get("values") or []])
              for s in (data.get("result") or [])[:MAX_SERIES]]  # fmt: skip
    series = [(label, points) for label, points in series if points]
    report = Report()
    span = ctx.options.get("since", "1h")
    if not series:
        report.warn(_("`{query}` has no samples in the last {span}", query=promql, span=span))
        report.data = {"query": promql, "series": 0}
        return report
    rows, stats = [], {}
    for label, points in series:
        values = [v for _t, v in points]
        stats[label] = {"min": min(values), "max": max(values), "last": values[-1], "points": len(values)}
        rows.append([label, _number(min(values)), _number(max(values)), _number(values[-1])])
    first = stats[series[0][0]]
    report.ok(
        _(
            "`{query}` over {span}: {n} series; {first} min {low}, max {high}, last {last}",
            query=promql,
            span=span,
            n=len(series),
            first=series[0][0],
            low=_number(first["min"]),
            high=_number(first["max"]),
            last=_number(first["last"]),
        )
    )
    report.detail = format_table(["series", "min", "max", "last"], rows, max_width=100)
    report.data = {"query": promql, "since_s": since, "series": len(series), "stats": stats}
    report.charts = [("trend.png", _chart(promql, series, since))]
    return report


def load_library() -> None:
    """httpx and matplotlib (a cold matplotlib import takes seconds: not Prometheus being slow)."""
    import httpx  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")


ADAPTER = Adapter(
    name="prom",
    summary=N_("Prometheus: PromQL instant values and trends drawn as a chart"),
    target_kind="prom",
    default_check="query",
    load=load_library,
    checks={
        "query": Check("query", query, N_("an instant PromQL query: series and values"),
                       usage="<promql>", guide="curl prometheus/api/v1/query?query=…", min_args=1,
                       options=(), validate=_validate),
        "trend": Check("trend", trend, N_("a PromQL range as a PNG chart with min/max/last (内存使用趋势)"),
                       usage="<promql> [since=1h]", guide="docker stats / 内存使用趋势 over time", min_args=1,
                       options=("since",), validate=_validate),
    },
)  # fmt: skip
