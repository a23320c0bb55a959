"""AWS access shared by the checks and remediation: one boto3 client per target and service,
built on first use, its failures turned into the runner's errors; id validation. `IAM_ACTIONS` is what
the bot's IAM policy needs, for the deploy docs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    CheckFailed,
    Fix,
    UsageError,
    clients,
)
from bot.i18n import _

# What the bot's IAM policy needs, for the deploy docs.
IAM_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeVolumes",
    "ec2:DescribeVolumesModifications",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",  # disk: which filesystems an instance's agent reports
    "cloudwatch:GetMetricData",  # disk: their latest values in one call
    "logs:FilterLogEvents",  # suspicious: access logs in CloudWatch Logs
)
INSTANCE_ID = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
VOLUME_ID = re.compile(r"^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
MAX_IDS = 50
MAX_LISTED = 100

_NOT_FOUND = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "InvalidVolume.NotFound",
              "InvalidVolumeID.Malformed", "InvalidVolumeModification.NotFound")  # fmt: skip
_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure")


# ---------------------------------------------------------------------------------- validation
def validate_ids(args: list[str], pattern: re.Pattern[str], what: str, example: str) -> list[str]:
    """The ids, deduplicated; a UsageError naming `what` (marked N_ by the caller) otherwise."""
    if len(args) > MAX_IDS:
        raise UsageError(_("At most {n} at a time (each a {what}).", n=MAX_IDS, what=_(what)))
    for value in args:
        if not pattern.match(value):
            raise UsageError(
                _(
                    "`{value}` is not an {what} (like `{example}`).",
                    value=value[:80],
                    what=_(what),
                    example=example,
                )
            )
    return list(dict.fromkeys(args))


# -------------------------------------------------------------------------------- AWS access
def load_library() -> None:
    import boto3  # noqa: F401


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
        raise UsageError(_("No AWS target configured: add one under `targets.aws` in the YAML policy."))
    key = ("aws", ctx.target_name, target.region, target.profile, target.endpoint_url, service, ctx.timeout)
    where = _("{service} in {region}", service=service, region=target.region)
    try:
        yield clients.get(key, lambda: _new_client(target, service, ctx.timeout))
    except bx.ClientError as exc:
        raise _client_error(exc, where) from None
    except (bx.ReadTimeoutError, bx.ConnectTimeoutError):
        raise TimeoutError(
            _("AWS {where} did not answer within {limit} s", where=where, limit=f"{ctx.timeout:g}")
        ) from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound) as exc:
        raise CheckFailed(
            _("No usable AWS credentials for target {target}: {error}", target=ctx.target_name, error=exc),
            _("give the bot an IAM role (instance profile / IRSA) or set `profile:` on the target"),
        ) from None
    except bx.EndpointConnectionError as exc:
        raise CheckFailed(
            _("Can't reach AWS {where}: {error}", where=where, error=exc), Fix.NETWORK
        ) from None


def _client_error(exc: Any, where: str) -> Exception:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", "Error"), error.get("Message", "")
    if code in _NOT_FOUND:
        return UsageError(f"{message or code}.")
    if code in _DENIED or code.startswith("AccessDenied"):
        return CheckFailed(
            _(
                "AWS denied {operation} ({code}) on {where}",
                operation=exc.operation_name,
                code=code,
                where=where,
            ),
            _("allow it in the bot's IAM policy: {actions}", actions=", ".join(IAM_ACTIONS)),
        )
    return CheckFailed(_("AWS {where} answered {code}: {message}", where=where, code=code, message=message))


def tag_value(tags: list[dict[str, str]] | None, key: str = "Name") -> str:
    return next((t["Value"] for t in tags or [] if t.get("Key") == key), "")
