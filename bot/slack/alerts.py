"""AlertPort on the Slack Web API: proposals and alert notices (see bot.slack.blocks.alerts)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.alerts.views import AlertGroupView
from bot.ports import Posted
from bot.slack.blocks import alerts as blocks
from bot.slack.gateway import _call


class SlackAlerts:
    def __init__(self, client: WebClient):
        self.client = client

    def _post(self, channel_id: str, rendered: tuple[str, list[dict]]) -> Posted:
        text, body = rendered
        response = _call(
            "chat.postMessage", self.client.chat_postMessage, channel=channel_id, text=text, blocks=body
        )
        return Posted(response["channel"], response["ts"])

    def _update(self, channel_id: str, ts: str, rendered: tuple[str, list[dict]]) -> None:
        text, body = rendered
        _call("chat.update", self.client.chat_update, channel=channel_id, ts=ts, text=text, blocks=body)

    def post_proposal(self, channel_id: str, group: AlertGroupView) -> Posted:
        return self._post(channel_id, blocks.proposal_message(group))

    def update_proposal(self, channel_id: str, ts: str, group: AlertGroupView) -> None:
        self._update(channel_id, ts, blocks.proposal_message(group))

    def post_alert_notice(self, channel_id: str, group: AlertGroupView, kind: str) -> Posted:
        return self._post(channel_id, blocks.notice_message(group, kind))

    def update_alert_notice(self, channel_id: str, ts: str, group: AlertGroupView, kind: str) -> None:
        self._update(channel_id, ts, blocks.notice_message(group, kind))
