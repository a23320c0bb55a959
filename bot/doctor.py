"""`warroom doctor`: is this deployment configured right? A ✓ / ✗ table, with the fix for every ✗.

It checks, in order: the policy file (each problem with its key path and line), the environment
(tokens and secrets present and of the right kind), the database, Slack (auth.test, and that the
token carries every bot scope manifest.yml asks for — Slack returns the granted scopes in the
X-OAuth-Scopes header of any Web API call), and every configured diagnostics target, each through
the same adapter code `/diag` uses, with a short timeout. Exit status 1 when any row is ✗.

Nothing secret is printed: every detail goes through the same masking as diagnostics output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from bot.config import PolicyError, Settings, load_policy
from bot.config.policy import Policy
from bot.security.redact import mask

DEFAULT_TIMEOUT = 5.0
FAILED_RUN_OUTCOMES = {"error", "timeout", "refused"}


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
def _problem_fix(source: str, line: int | None, message: str) -> str:
    where = f"line {line} of {source}" if line else source
    if message.startswith("unknown key"):
        return f"edit {where}: rename or remove the key (reference: docs/configuration.md)"
    if message.startswith("not valid YAML"):
        return f"edit {where}: fix the YAML syntax (indentation, a missing ':' or an unclosed quote)"
    if "cannot read" in message:
        return "point WARROOM_CONFIG (or --config) at a readable policy file"
    return f"edit {where}: {message.split(': ', 1)[-1]}"


def check_policy(path: str | None) -> tuple[Policy | None, list[Row]]:
    if path is None:
        return Policy(), [ok("policy", "WARROOM_CONFIG not set: the guide's built-in defaults")]
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        rows = [
            fail("policy", f"{exc.source}: {key}" + (f" (line {line})" if line else "") + f": {message}",
                 _problem_fix(exc.source, line, message))
            for key, line, message in exc.problems
        ]  # fmt: skip
        return None, rows
    return policy, [ok("policy", f"{path}: valid")]


def check_policy_sense(policy: Policy) -> Iterator[Row]:
    """What pydantic accepts but cannot work: a ladder that pages nobody, services naming unknown targets."""
    ladders = {"escalation": policy.escalation, **{
        f"escalation_policies.{name}": ladder for name, ladder in policy.escalation_policies.items()
    }}  # fmt: skip
    for key, ladder in ladders.items():
        if not any(tier.targets for tier in ladder.tiers):
            yield fail(
                "escalation",
                f"{key}: no tier has targets, so nobody would ever be paged",
                f"add Slack user ids (U…), group ids (S…) or rotation:<name> to {key}.tiers.0.targets",
            )
    kinds = {"k8s": "k8s", "docker": "docker", "database": "mysql", "cache": "redis"}
    for name, service in policy.services.items():
        for field, kind in kinds.items():
            value = getattr(service, field)
            known = getattr(policy.targets, kind)
            if value is not None and value not in known:
                yield fail(
                    "services",
                    f"services.{name}.{field} names {kind} target {value!r}, which is not in targets.{kind}",
                    f"add targets.{kind}.{value}, or use one of: {', '.join(known) or 'none configured'}",
                )


def check_alert_sources(policy: Policy) -> Iterator[Row]:
    """Every alerts source's token variable is set: without it every delivery is refused with 401."""
    import os

    for source in policy.alerts.sources:
        check = f"alerts {source.name}"
        if source.token_env is None:
            yield ok(check, f"{source.kind}: authenticated by the SNS signature (no token)")
        elif os.environ.get(source.token_env):
            yield ok(check, f"{source.kind}: {source.token_env} is set")
        else:
            yield fail(
                check,
                f"{source.kind}: {source.token_env} is not set, so every alert to /alerts/{source.name} gets 401",
                f"export {source.token_env}=<a long random token>, and give the sender the same token",
            )
    if any(route.declare == "propose" for route in policy.alerts.routes) and not policy.announce_channel:
        yield fail(
            "alerts routes",
            "a route says declare: propose, but announce_channel is not set: nobody would see the proposals",
            "set announce_channel: C… (the channel where proposals with Declare / Dismiss are posted)",
        )


# -------------------------------------------------------------------------------------- environment
def check_environment(settings: Settings) -> Iterator[Row]:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        yield fail(
            "SLACK_BOT_TOKEN", "not set", "export SLACK_BOT_TOKEN=xoxb-… (the app's Bot User OAuth Token)"
        )
    elif not token.startswith("xoxb-"):
        yield fail(
            "SLACK_BOT_TOKEN",
            "not a bot token (xoxb-…)",
            "use the Bot User OAuth Token, not a user or app token",
        )
    else:
        yield ok("SLACK_BOT_TOKEN", "set (xoxb-…)")
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if app_token and not app_token.startswith("xapp-"):
        yield fail(
            "SLACK_APP_TOKEN",
            "set but not an app-level token (xapp-…), so the bot would silently run in HTTP mode",
            "create an app-level token with connections:write (Basic Information → App-Level Tokens)",
        )
    elif settings.socket_mode:
        yield ok("mode", "Socket Mode (SLACK_APP_TOKEN): no public URL or signing secret needed")
    elif settings.slack_signing_secret is None or not settings.slack_signing_secret.get_secret_value():
        yield fail(
            "SLACK_SIGNING_SECRET",
            "not set, and HTTP mode verifies every request with it",
            "export SLACK_SIGNING_SECRET=… (Basic Information → Signing Secret), or use Socket Mode",
        )
    else:
        yield ok("mode", f"HTTP mode: Slack must reach POST /slack/events on port {settings.port}")


# ----------------------------------------------------------------------------------------- database
def check_database(settings: Settings, timeout: float) -> Row:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        url = make_url(settings.database_url)
    except Exception as exc:
        return fail(
            "database",
            f"DATABASE_URL: {_one_line(exc)}",
            "use an SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db",
        )
    shown = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        # Connecting would create the file: doctor must not change anything. Its folder must exist.
        folder = Path(url.database).resolve().parent
        if not folder.is_dir():
            return fail(
                "database", f"{shown}: folder {folder} does not exist", f"create {folder} or fix DATABASE_URL"
            )
        return ok("database", f"{shown}: does not exist yet; created and migrated at start")
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql"):
        connect_args["connect_timeout"] = max(1, round(timeout))
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = _revision(conn)
    except Exception as exc:
        return fail(
            "database",
            f"{shown}: {_one_line(exc)}",
            "check DATABASE_URL (host, port, user, password via the Secret) and that the database accepts connections",
        )
    finally:
        engine.dispose()
    return ok("database", f"{shown}: reachable, {revision}")


def _revision(conn: Any) -> str:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.db.engine import MIGRATIONS

    current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current == head:
        return f"schema at {head}"
    return f"schema at {current or 'nothing'}, head is {head} (applied at start, or `warroom migrate`)"


# -------------------------------------------------------------------------------------------- slack
def find_manifest(explicit: str | None = None) -> Path | None:
    from bot.manifest import find_manifest as locate

    return locate(explicit)


def manifest_scopes(path: Path) -> set[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return set(data.get("oauth_config", {}).get("scopes", {}).get("bot", []) or [])


def check_slack(settings: Settings, manifest: Path | None, timeout: float) -> Iterator[Row]:
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        yield skip("slack auth", "no SLACK_BOT_TOKEN to test")
        return
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    # No retry handlers: doctor wants the first answer, fast.
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(timeout) or 1,
    )
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
        yield fail("slack auth", f"auth.test answered {code}", _slack_fix(code))
        return
    except Exception as exc:
        yield fail(
            "slack auth",
            f"cannot reach {settings.slack_api_url}: {_one_line(exc)}",
            "allow outbound HTTPS to slack.com (proxy, firewall, egress NetworkPolicy); check SLACK_API_URL",
        )
        return
    yield ok(
        "slack auth",
        f"authenticated as @{response.get('user')} in {response.get('team')} ({response.get('team_id')})",
    )
    granted = _granted_scopes(response.headers)
    if manifest is None:
        yield skip("slack scopes", "manifest.yml not found: pass --manifest PATH to compare scopes")
        return
    wanted = manifest_scopes(manifest)
    if granted is None:
        yield skip("slack scopes", "Slack sent no X-OAuth-Scopes header to compare with")
        return
    missing = sorted(wanted - granted)
    if missing:
        yield fail(
            "slack scopes",
            f"the token lacks {len(missing)} scope(s) of {manifest.name}: {', '.join(missing)}",
            "add them to the app (OAuth & Permissions, or paste manifest.yml), reinstall it to the "
            "workspace, and update SLACK_BOT_TOKEN",
        )
    else:
        yield ok("slack scopes", f"all {len(wanted)} bot scopes of {manifest.name} granted")


def _granted_scopes(headers: Any) -> set[str] | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else value
            return {scope.strip() for scope in str(text).split(",") if scope.strip()}
    return None


def _slack_fix(code: str) -> str:
    return {
        "invalid_auth": "the token is wrong or was revoked: copy the Bot User OAuth Token again",
        "not_authed": "SLACK_BOT_TOKEN is empty",
        "account_inactive": "the app was uninstalled or its user deactivated: reinstall the app",
        "token_revoked": "the token was revoked: reinstall the app and copy the new xoxb- token",
        "token_expired": "token rotation is on: turn it off for this app, or refresh the token",
    }.get(code, "see https://api.slack.com/methods/auth.test#errors")


# ------------------------------------------------------------------------------------------ targets
def check_targets(policy: Policy, timeout: float) -> list[Row]:
    jobs = [
        (kind, name)
        for kind in ("k8s", "docker", "mysql", "redis", "aws")
        for name in getattr(policy.targets, kind)
    ]
    if not jobs:
        return [skip("targets", "none configured (targets: in the policy file)")]
    with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="doctor") as pool:
        return list(pool.map(lambda job: check_target(policy, job[0], job[1], timeout), jobs))


def check_target(policy: Policy, kind: str, name: str, timeout: float) -> Row:
    """The adapter's default check against one target: what `/diag <kind> <name>` would do."""
    from bot.diagnostics import registry
    from bot.diagnostics.base import UsageError
    from bot.diagnostics.runner import run_check

    label = f"{kind} {name}"
    adapter = registry.get(kind)
    if adapter is None:
        return skip(label, f"this build has no {kind} adapter")
    try:
        result = run_check(policy, kind, adapter.default_check, name, timeout=timeout)
    except UsageError as exc:
        return fail(label, str(exc), f"fix targets.{kind}.{name} in the policy file")
    outcome = str(getattr(result.outcome, "value", result.outcome))
    if outcome in FAILED_RUN_OUTCOMES:
        first = result.findings[0] if result.findings else None
        reason = result.error or (first.message if first else outcome)
        fix = (first.fix if first and first.fix else None) or _target_fix(kind, name, outcome, timeout)
        return fail(label, f"{outcome}: {reason}", fix)
    return ok(label, f"reachable in {result.elapsed_ms:.0f} ms (`/diag {kind} {name}` → {outcome})")


def _target_fix(kind: str, name: str, outcome: str, timeout: float) -> str:
    where = f"targets.{kind}.{name}"
    if outcome == "timeout":
        return f"no answer within {timeout:g} s: check the address in {where} and the network path (firewall, security group, NetworkPolicy)"
    if outcome == "refused":
        return f"the request was refused by Warroom's own safety rules: review {where} and diagnostics.allow_networks"
    return f"check the address and credentials of {where} (passwords come from the environment variable named by password_env)"


# ---------------------------------------------------------------------------------------- the table
def diagnose(settings: Settings, config: str | None, manifest: Path | None, timeout: float) -> list[Row]:
    policy, rows = check_policy(config)
    if policy is not None:
        rows += check_policy_sense(policy)
        rows += check_alert_sources(policy)
    rows += check_environment(settings)
    rows.append(check_database(settings, timeout))
    rows += check_slack(settings, manifest, timeout)
    if policy is None:
        rows.append(skip("targets", "not checked: fix the policy file first"))
    else:
        rows += check_targets(policy, timeout)
    return rows


def render(rows: Iterable[Row]) -> str:
    rows = list(rows)
    width = max((len(row.check) for row in rows), default=0)
    lines = []
    for row in rows:
        lines.append(f"{row.status.value}  {row.check.ljust(width)}  {row.detail}")
        if row.status is Status.FAIL and row.fix:
            lines.append(f"   {' ' * width}  fix: {row.fix}")
    failures = sum(row.status is Status.FAIL for row in rows)
    lines.append("")
    lines.append(f"{failures} problem(s) found." if failures else "All checks passed.")
    return "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    return text if len(text) <= 300 else text[:299] + "…"


# ------------------------------------------------------------------------------------- CLI plumbing
def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="Check the policy file, Slack token and scopes, database and every target; ✓/✗ with fixes.",
    )
    parser.add_argument("--config", default=None, help="policy YAML (default: WARROOM_CONFIG)")
    parser.add_argument(
        "--manifest", default=None, help="Slack app manifest (default: the packaged manifest.yml)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per network check (default {DEFAULT_TIMEOUT:g})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    config = args.config if args.config is not None else settings.warroom_config
    manifest = find_manifest(args.manifest)
    if args.manifest and manifest is None:
        print(f"--manifest {args.manifest}: no such file", file=sys.stderr)
        return 2
    rows = diagnose(settings, config, manifest, args.timeout)
    print(render(rows))
    return 1 if any(row.status is Status.FAIL for row in rows) else 0
