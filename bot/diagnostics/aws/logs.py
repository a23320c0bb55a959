"""`/diag aws suspicious <log-group>`: ALB / nginx access logs shipped to CloudWatch Logs, read with
FilterLogEvents (newest `tail=` events of the last `since=`) and analysed as in `accesslog`."""

from __future__ import annotations

import re
import time

from bot.diagnostics.accesslog import DEFAULT_TAIL, analyze
from bot.diagnostics.aws.client import aws
from bot.diagnostics.base import CheckContext, Report, UsageError, clean, since_option, tail_option
from bot.i18n import _

LOG_GROUP = re.compile(r"^[\w.\-/#]{1,512}$")
IAM_ACTIONS = ("logs:FilterLogEvents",)


def validate_log_group(args: list[str], options: dict[str, str]) -> None:
    if args and not LOG_GROUP.match(args[0]):
        raise UsageError(
            _("`{name}` is not a CloudWatch Logs group name (like `/aws/alb/shop`).", name=args[0][:80])
        )
    tail_option({"tail": str(DEFAULT_TAIL), **options})
    since_option(options)


def suspicious(ctx: CheckContext) -> Report:
    group = ctx.arg(0, "log group")
    limit = tail_option({"tail": str(DEFAULT_TAIL), **ctx.options})
    since = since_option(ctx.options) or 3600
    start = int((time.time() - since) * 1000)
    lines: list[str] = []
    with aws(ctx, "logs") as logs:
        kwargs = {"logGroupName": group, "startTime": start, "limit": min(limit, 10000)}
        while len(lines) < limit:
            page = logs.filter_log_events(**kwargs)
            lines += [clean(str(e.get("message", ""))) for e in page.get("events") or []]
            if not page.get("nextToken") or not page.get("events"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return analyze(lines[-limit:], group)
