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
import contextvars
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.config import PolicyError, Settings, load_policy
from bot.config.policy import Policy
from bot.doctor_policy import (
    Row,
    Status,
    check_alert_sources,
    check_policy,
    check_policy_sense,
    fail,
    ok,
    skip,
)
from bot.i18n import N_, _, ngettext, use_language

DEFAULT_TIMEOUT = 5.0
FAILED_RUN_OUTCOMES = {"error", "timeout", "refused"}


# -------------------------------------------------------------------------------------- environment
def check_environment(settings: Settings) -> Iterator[Row]:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        yield fail(
            "SLACK_BOT_TOKEN",
            _("not set"),
            _("export SLACK_BOT_TOKEN=xoxb-… (the app's Bot User OAuth Token)"),
        )
    elif not token.startswith("xoxb-"):
        yield fail(
            "SLACK_BOT_TOKEN",
            _("not a bot token (xoxb-…)"),
            _("use the Bot User OAuth Token, not a user or app token"),
        )
    else:
        yield ok("SLACK_BOT_TOKEN", _("set (xoxb-…)"))
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if app_token and not app_token.startswith("xapp-"):
        yield fail(
            "SLACK_APP_TOKEN",
            _("set but not an app-level token (xapp-…), so the bot would silently run in HTTP mode"),
            _("create an app-level token with connections:write (Basic Information → App-Level Tokens)"),
        )
    elif settings.socket_mode:
        yield ok(_("mode"), _("Socket Mode (SLACK_APP_TOKEN): no public URL or signing secret needed"))
    elif settings.slack_signing_secret is None or not settings.slack_signing_secret.get_secret_value():
        yield fail(
            "SLACK_SIGNING_SECRET",
            _("not set, and HTTP mode verifies every request with it"),
            _("export SLACK_SIGNING_SECRET=… (Basic Information → Signing Secret), or use Socket Mode"),
        )
    else:
        yield ok(
            _("mode"), _("HTTP mode: Slack must reach POST /slack/events on port {port}", port=settings.port)
        )


# ----------------------------------------------------------------------------------------- database
def check_database(settings: Settings, timeout: float) -> Row:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        url = make_url(settings.database_url)
    except Exception as exc:
        return fail(
            _("database"),
            f"DATABASE_URL: {_one_line(exc)}",
            _("use an SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db"),
        )
    shown = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        # Connecting would create the file: doctor must not change anything. Its folder must exist.
        folder = Path(url.database).resolve().parent
        if not folder.is_dir():
            return fail(
                _("database"),
                _("{url}: folder {folder} does not exist", url=shown, folder=folder),
                _("create {folder} or fix DATABASE_URL", folder=folder),
            )
        return ok(_("database"), _("{url}: does not exist yet; created and migrated at start", url=shown))
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
            _("database"),
            f"{shown}: {_one_line(exc)}",
            _(
                "check DATABASE_URL (host, port, user, password via the Secret) and that the database "
                "accepts connections"
            ),
        )
    finally:
        engine.dispose()
    return ok(_("database"), _("{url}: reachable, {revision}", url=shown, revision=revision))


def _revision(conn: Any) -> str:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.db.engine import MIGRATIONS

    current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current == head:
        return _("schema at {head}", head=head)
    return _(
        "schema at {current}, head is {head} (applied at start, or `warroom migrate`)",
        current=current or _("nothing"),
        head=head,
    )


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
        yield skip(_("slack auth"), _("no SLACK_BOT_TOKEN to test"))
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
        yield fail(_("slack auth"), _("auth.test answered {code}", code=code), _slack_fix(code))
        return
    except Exception as exc:
        yield fail(
            _("slack auth"),
            _("cannot reach {url}: {error}", url=settings.slack_api_url, error=_one_line(exc)),
            _(
                "allow outbound HTTPS to slack.com (proxy, firewall, egress NetworkPolicy); check SLACK_API_URL"
            ),
        )
        return
    yield ok(
        _("slack auth"),
        _(
            "authenticated as @{user} in {team} ({team_id})",
            user=response.get("user"),
            team=response.get("team"),
            team_id=response.get("team_id"),
        ),
    )
    granted = _granted_scopes(response.headers)
    if manifest is None:
        yield skip(_("slack scopes"), _("manifest.yml not found: pass --manifest PATH to compare scopes"))
        return
    wanted = manifest_scopes(manifest)
    if granted is None:
        yield skip(_("slack scopes"), _("Slack sent no X-OAuth-Scopes header to compare with"))
        return
    missing = sorted(wanted - granted)
    if missing:
        yield fail(
            _("slack scopes"),
            ngettext(
                "the token lacks {n} scope of {manifest}: {scopes}",
                "the token lacks {n} scopes of {manifest}: {scopes}",
                len(missing),
                manifest=manifest.name,
                scopes=", ".join(missing),
            ),
            _(
                "add them to the app (OAuth & Permissions, or paste manifest.yml), reinstall it to the "
                "workspace, and update SLACK_BOT_TOKEN"
            ),
        )
    else:
        yield ok(
            _("slack scopes"),
            _("all {n} bot scopes of {manifest} granted", n=len(wanted), manifest=manifest.name),
        )


def _granted_scopes(headers: Any) -> set[str] | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else value
            return {scope.strip() for scope in str(text).split(",") if scope.strip()}
    return None


def _slack_fix(code: str) -> str:
    return _(_SLACK_FIXES.get(code, N_("see https://api.slack.com/methods/auth.test#errors")))


_SLACK_FIXES = {
    "invalid_auth": N_("the token is wrong or was revoked: copy the Bot User OAuth Token again"),
    "not_authed": N_("SLACK_BOT_TOKEN is empty"),
    "account_inactive": N_("the app was uninstalled or its user deactivated: reinstall the app"),
    "token_revoked": N_("the token was revoked: reinstall the app and copy the new xoxb- token"),
    "token_expired": N_("token rotation is on: turn it off for this app, or refresh the token"),
}


# ------------------------------------------------------------------------------------------ targets
def check_targets(policy: Policy, timeout: float) -> list[Row]:
    jobs = [
        (kind, name)
        for kind in ("k8s", "docker", "mysql", "redis", "aws")
        for name in getattr(policy.targets, kind)
    ]
    if not jobs:
        return [skip(_("targets"), _("none configured (targets: in the policy file)"))]
    # Each check runs in a copy of this context, so the language in force reaches its findings.
    contexts = [contextvars.copy_context() for _job in jobs]
    with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="doctor") as pool:
        return list(
            pool.map(
                lambda job, context: context.run(check_target, policy, job[0], job[1], timeout),
                jobs,
                contexts,
            )
        )


def check_target(policy: Policy, kind: str, name: str, timeout: float) -> Row:
    """The adapter's default check against one target: what `/diag <kind> <name>` would do."""
    from bot.diagnostics import registry
    from bot.diagnostics.base import UsageError
    from bot.diagnostics.runner import run_check

    label = f"{kind} {name}"
    adapter = registry.get(kind)
    if adapter is None:
        return skip(label, _("this build has no {kind} adapter", kind=kind))
    try:
        result = run_check(policy, kind, adapter.default_check, name, timeout=timeout)
    except UsageError as exc:
        return fail(label, str(exc), _("fix targets.{kind}.{name} in the policy file", kind=kind, name=name))
    outcome = str(getattr(result.outcome, "value", result.outcome))
    if outcome in FAILED_RUN_OUTCOMES:
        first = result.findings[0] if result.findings else None
        reason = result.error or (first.message if first else outcome)
        fix = (first.fix if first and first.fix else None) or _target_fix(kind, name, outcome, timeout)
        return fail(label, f"{outcome}: {reason}", fix)
    return ok(
        label,
        _(
            "reachable in {ms} ms (`/diag {kind} {name}` → {outcome})",
            ms=f"{result.elapsed_ms:.0f}",
            kind=kind,
            name=name,
            outcome=outcome,
        ),
    )


def _target_fix(kind: str, name: str, outcome: str, timeout: float) -> str:
    where = f"targets.{kind}.{name}"
    if outcome == "timeout":
        return _(
            "no answer within {seconds} s: check the address in {where} and the network path "
            "(firewall, security group, NetworkPolicy)",
            seconds=f"{timeout:g}",
            where=where,
        )
    if outcome == "refused":
        return _(
            "the request was refused by Warroom's own safety rules: review {where} and diagnostics.allow_networks",
            where=where,
        )
    return _(
        "check the address and credentials of {where} (passwords come from the environment variable "
        "named by password_env)",
        where=where,
    )


# ---------------------------------------------------------------------------------------- the table
def diagnose(
    settings: Settings, config: str | None, manifest: Path | None, timeout: float, post: bool = False
) -> list[Row]:
    policy, rows = check_policy(config)
    if policy is not None:
        rows += check_policy_sense(policy)
        rows += check_alert_sources(policy)
    rows += check_environment(settings)
    rows.append(check_database(settings, timeout))
    rows += check_slack(settings, manifest, timeout)
    if policy is not None:
        from bot.doctor_contacts import check_contacts

        rows += check_contacts(settings, policy, timeout, post)
    if policy is None:
        rows.append(skip(_("targets"), _("not checked: fix the policy file first")))
    else:
        rows += check_targets(policy, timeout)
    return rows


def render(rows: Iterable[Row]) -> str:
    rows = list(rows)
    width = max((_columns(row.check) for row in rows), default=0)
    lines = []
    for row in rows:
        pad = " " * (width - _columns(row.check))
        lines.append(f"{row.status.value}  {row.check}{pad}  {row.detail}")
        if row.status is Status.FAIL and row.fix:
            lines.append(_("   {pad}  fix: {fix}", pad=" " * width, fix=row.fix))
    failures = sum(row.status is Status.FAIL for row in rows)
    lines.append("")
    if failures:
        lines.append(ngettext("{n} problem found.", "{n} problems found.", failures))
    else:
        lines.append(_("All checks passed."))
    return "\n".join(lines)


def _columns(text: str) -> int:
    """Terminal columns: a Chinese character takes two, so the table stays aligned in zh."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def _one_line(exc: BaseException) -> str:
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    return text if len(text) <= 300 else text[:299] + "…"


# ------------------------------------------------------------------------------------- CLI plumbing
def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help=_("Check the policy file, Slack token and scopes, database and every target; ✓/✗ with fixes."),
    )
    parser.add_argument("--config", default=None, help=_("policy YAML (default: WARROOM_CONFIG)"))
    parser.add_argument(
        "--manifest", default=None, help=_("Slack app manifest (default: the packaged manifest.yml)")
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=_("seconds per network check (default {seconds})", seconds=f"{DEFAULT_TIMEOUT:g}"),
    )
    parser.add_argument(
        "--post",
        action="store_true",
        help=_("also post the contact check's findings to announce_channel, as the weekly job does"),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    config = args.config if args.config is not None else settings.warroom_config
    manifest = find_manifest(args.manifest)
    with use_language(policy_language(config)):
        if args.manifest and manifest is None:
            print(_("--manifest {path}: no such file", path=args.manifest), file=sys.stderr)
            return 2
        rows = diagnose(settings, config, manifest, args.timeout, args.post)
        print(render(rows))
    return 1 if any(row.status is Status.FAIL for row in rows) else 0


def policy_language(config: str | None) -> str | None:
    """The policy's `language`, or None (what is in force) when there is no policy or it is broken."""
    try:
        return load_policy(config).language if config else None
    except PolicyError as exc:
        return exc.language
