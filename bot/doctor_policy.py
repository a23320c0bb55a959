"""`warroom doctor`'s rows, and its checks of the policy file: each problem with its key path, its
line and a fix; ladders that page nobody; services naming unknown targets; alert sources' tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from bot.config import PolicyError, load_policy
from bot.config.policy import Policy
from bot.i18n import _
from bot.security.redact import mask


class Status(Enum):
    OK = "✓"
    FAIL = "✗"
    SKIP = "–"  # not configured here, or not checkable because an earlier row failed


@dataclass(frozen=True)
class Row:
    status: Status
    check: str
    detail: str
    fix: str | None = None


def ok(check: str, detail: str) -> Row:
    return Row(Status.OK, check, mask(detail))


def fail(check: str, detail: str, fix: str) -> Row:
    # Details may quote configuration and errors, so they are masked; fixes are our own words
    # (like "export SLACK_BOT_TOKEN=xoxb-…"), which the masking would garble.
    return Row(Status.FAIL, check, mask(detail), fix)


def skip(check: str, detail: str) -> Row:
    return Row(Status.SKIP, check, mask(detail))


# ------------------------------------------------------------------------------------------- policy
def _problem_fix(source: str, line: int | None, message: str, kind: str) -> str:
    where = _("line {line} of {file}", line=line, file=source) if line else source
    if kind == "unknown_key":
        return _("edit {where}: rename or remove the key (reference: docs/configuration.md)", where=where)
    if kind == "yaml":
        return _(
            "edit {where}: fix the YAML syntax (indentation, a missing ':' or an unclosed quote)", where=where
        )
    if kind == "unreadable":
        return _("point WARROOM_CONFIG (or --config) at a readable policy file")
    # The advice after the problem's first colon ("invalid duration 'soon': use …"), in either language.
    return _("edit {where}: {what}", where=where, what=re.split(r": |：", message, maxsplit=1)[-1])


def check_policy(path: str | None) -> tuple[Policy | None, list[Row]]:
    if path is None:
        return Policy(), [ok(_("policy"), _("WARROOM_CONFIG not set: the guide's built-in defaults"))]
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        rows = [
            fail(
                _("policy"),
                _(
                    "{file}: {key} (line {line}): {problem}",
                    file=exc.source,
                    key=key,
                    line=line,
                    problem=message,
                )
                if line
                else _("{file}: {key}: {problem}", file=exc.source, key=key, problem=message),
                _problem_fix(exc.source, line, message, kind),
            )
            for (key, line, message), kind in zip(exc.problems, exc.kinds, strict=True)
        ]
        return None, rows
    return policy, [ok(_("policy"), _("{file}: valid", file=path))]


def check_policy_sense(policy: Policy) -> Iterator[Row]:
    """What pydantic accepts but cannot work: a ladder that pages nobody, services naming unknown targets."""
    ladders = {"escalation": policy.escalation, **{
        f"escalation_policies.{name}": ladder for name, ladder in policy.escalation_policies.items()
    }}  # fmt: skip
    for key, ladder in ladders.items():
        if not any(tier.targets for tier in ladder.tiers):
            yield fail(
                _("escalation"),
                _("{key}: no tier has targets, so nobody would ever be paged", key=key),
                _(
                    "add Slack user ids (U…), group ids (S…) or rotation:<name> to {key}.tiers.0.targets",
                    key=key,
                ),
            )
    kinds = {"k8s": "k8s", "docker": "docker", "database": "mysql", "cache": "redis"}
    for name, service in policy.services.items():
        for field, kind in kinds.items():
            value = getattr(service, field)
            known = getattr(policy.targets, kind)
            if value is not None and value not in known:
                yield fail(
                    _("services"),
                    _(
                        "services.{name}.{field} names {kind} target {value}, which is not in targets.{kind}",
                        name=name,
                        field=field,
                        kind=kind,
                        value=repr(value),
                    ),
                    _(
                        "add targets.{kind}.{value}, or use one of: {known}",
                        kind=kind,
                        value=value,
                        known=", ".join(known) or _("none configured"),
                    ),
                )


def check_alert_sources(policy: Policy) -> Iterator[Row]:
    """Every alerts source's token variable is set: without it every delivery is refused with 401."""
    import os

    for source in policy.alerts.sources:
        check = _("alerts {source}", source=source.name)
        if source.token_env is None:
            yield ok(check, _("{kind}: authenticated by the SNS signature (no token)", kind=source.kind))
        elif os.environ.get(source.token_env):
            yield ok(check, _("{kind}: {variable} is set", kind=source.kind, variable=source.token_env))
        else:
            yield fail(
                check,
                _(
                    "{kind}: {variable} is not set, so every alert to /alerts/{source} gets 401",
                    kind=source.kind,
                    variable=source.token_env,
                    source=source.name,
                ),
                _(
                    "export {variable}=<a long random token>, and give the sender the same token",
                    variable=source.token_env,
                ),
            )
    if any(route.declare == "propose" for route in policy.alerts.routes) and not policy.announce_channel:
        yield fail(
            _("alerts routes"),
            _(
                "a route says declare: propose, but announce_channel is not set: nobody would see the proposals"
            ),
            _("set announce_channel: C… (the channel where proposals with Declare / Dismiss are posted)"),
        )
