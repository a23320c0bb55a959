"""`warroom doctor`: contact freshness (CHECK:DOC-002) — everyone a page can reach, looked up in Slack.

The same check the weekly job runs (bot.security.freshness); doctor prints it, the job posts it.
"""

from __future__ import annotations

from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.doctor_policy import Row, fail, ok, skip
from bot.i18n import _
from bot.security import freshness


def check_contacts(settings: Settings, policy: Policy, timeout: float) -> list[Row]:
    name = _("contacts")
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        return [skip(name, _("no SLACK_BOT_TOKEN to look people up with"))]
    from slack_sdk import WebClient

    from bot.slack.gateway import SlackGateway

    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(timeout) or 1,
    )
    try:
        report = freshness.check(policy, SlackGateway(client))
    except Exception as exc:  # unreachable Slack: the slack auth row already says why
        return [skip(name, _("not checked: {error}", error=type(exc).__name__))]
    if not report.findings:
        return [
            ok(name, _("all {count} people and groups a page can reach are current", count=report.checked))
        ]
    return [fail(name, f"{f.target} ({f.where}): {f.problem}", f.fix) for f in report.findings]
