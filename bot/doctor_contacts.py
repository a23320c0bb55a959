"""`warroom doctor`: contact freshness (CHECK:DOC-002) — everyone a page can reach, looked up in Slack.

The same check the weekly job runs (bot.security.freshness); doctor prints it, and with `--post`
also posts the findings to `announce_channel` as the job does.
"""

from __future__ import annotations

from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.doctor_policy import Row, fail, ok, skip
from bot.i18n import _
from bot.ports import ChatError
from bot.security import freshness
from bot.slack.gateway import SlackGateway


def check_contacts(settings: Settings, policy: Policy, timeout: float, post: bool = False) -> list[Row]:
    name = _("contacts")
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        return [skip(name, _("no SLACK_BOT_TOKEN to look people up with"))]
    from slack_sdk import WebClient

    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(timeout) or 1,
    )
    gateway = SlackGateway(client)
    try:
        report = freshness.check(policy, gateway)
    except Exception as exc:  # unreachable Slack: the slack auth row already says why
        return [skip(name, _("not checked: {error}", error=type(exc).__name__))]
    if not report.findings:
        rows = [
            ok(name, _("all {count} people and groups a page can reach are current", count=report.checked))
        ]
    else:
        rows = [fail(name, f"{f.target} ({f.where}): {f.problem}", f.fix) for f in report.findings]
    return rows + ([_posted(gateway, policy, report)] if post else [])


def _posted(gateway: SlackGateway, policy: Policy, report: freshness.Report) -> Row:
    name = _("contacts posted")
    if not policy.announce_channel:
        return fail(name, _("no announce_channel to post to"), _("set announce_channel in the policy"))
    try:
        gateway.notify(policy.announce_channel, freshness.report_text(report))
    except ChatError as exc:
        return fail(
            name, _("Slack refused the post: {error}", error=exc.code), _("invite the bot to the channel")
        )
    return ok(name, _("the findings are in {channel}", channel=policy.announce_channel))
