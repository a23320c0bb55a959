"""`/diag docker suspicious <container>`: a container's log read as an nginx/ALB access log (accesslog).

Kept out of docker.py so the docker adapter stays one module under the size limit; the registry adds
this check to the docker adapter.
"""

from __future__ import annotations

import time
from typing import Any

from bot.diagnostics import accesslog, docker
from bot.diagnostics.base import Check, CheckContext, Report, clean, masked, since_option, tail_option
from bot.i18n import N_


def suspicious(ctx: CheckContext) -> Report:
    name = docker.validate_container(ctx.arg(0, N_("container name")))
    options = {"tail": str(accesslog.DEFAULT_TAIL), **ctx.options}
    kwargs: dict[str, Any] = {
        "stdout": True,
        "stderr": True,
        "tail": tail_option(options),
        "timestamps": False,
    }
    since = since_option(ctx.options)
    if since:
        kwargs["since"] = int(time.time()) - since
    with docker.engine(ctx) as api:
        raw = api.logs(name, **kwargs)
    return accesslog.analyze(clean(bytes(raw).decode("utf-8", errors="replace")).splitlines(), name)


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        docker.validate_container(args[0])
    tail_option({"tail": str(accesslog.DEFAULT_TAIL), **options})
    since_option(options)


CHECK = Check(
    "suspicious",
    masked(suspicious),
    N_("access log (nginx/ALB): requests and 4xx/5xx per IP, top talkers, injection and probe counts"),
    usage="<container> [tail=1000] [since=1h]",
    guide="grep -E \"(404|403|500)\" access.log | cut -d' ' -f1 | sort | uniq -c | sort -rn",
    min_args=1,
    max_args=1,
    options=("tail", "since"),
    validate=_validate,
)
