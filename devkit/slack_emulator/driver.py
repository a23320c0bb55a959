"""SlackDriver: the Slack side of the bot's HTTP endpoint — signed slash commands, events and interactions."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from devkit.slack_emulator.methods.views import apply_submission_ack
from devkit.slack_emulator.render import collect_actions
from devkit.slack_emulator.server import SlackEmulator

# Slack still sends the deprecated verification token in payloads; apps must not rely on it.
LEGACY_TOKEN = "emulator-verification-token"  # noqa: S105 - not a secret


@dataclass
class DriverResponse:
    """The bot's HTTP answer, plus access to what it later posted to the response_url it was given."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float
    emulator: SlackEmulator = field(repr=False)
    response_url: str | None = None
    trigger_id: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def responses(self) -> list[dict[str, Any]]:
        return self.emulator.responses(self.response_url) if self.response_url else []

    def wait_responses(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait up to `timeout` for `count` response_url posts; returns what arrived (maybe fewer)."""
        with contextlib.suppress(TimeoutError):
            self.emulator.wait_for(lambda: len(self.responses) >= count, timeout)
        return self.responses


def sign(secret: str, timestamp: int | str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


class SlackDriver:
    """Sends requests to the bot as Slack does.

    Every sender takes `timestamp`/`signature` to forge or age the signature, or `signed=False` to omit it.
    """

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        *,
        timeout: float = 10.0,
        verification_token: str = LEGACY_TOKEN,
    ) -> None:
        self.bot_url, self.signing_secret, self.emu = bot_url, signing_secret, emulator
        self.verification_token = verification_token
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # transport -------------------------------------------------------------------------------------
    def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        headers: dict[str, str] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> DriverResponse:
        out = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        }
        if signed:
            ts = int(time.time()) if timestamp is None else timestamp
            out["X-Slack-Request-Timestamp"] = str(ts)
            out["X-Slack-Signature"] = signature or sign(self.signing_secret, ts, body)
        started = time.perf_counter()
        resp = self._http.post(self.bot_url, content=body.encode(), headers=out)
        return DriverResponse(
            resp.status_code,
            resp.text,
            dict(resp.headers),
            time.perf_counter() - started,
            self.emu,
            response_url,
            trigger_id,
        )

    # what a user does ------------------------------------------------------------------------------
    def command_payload(
        self, command: str, text: str, user_id: str, channel_id: str = "C_GENERAL"
    ) -> dict[str, str]:
        """The fields of a slash command, with a fresh response_url and trigger_id.

        HTTP mode form-encodes them (`command`); Socket Mode sends them as the envelope payload.
        """
        return {
            "token": self.verification_token,
            "team_id": self.emu.team_id,
            "team_domain": self.emu.domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.emu.app_id,
            "is_enterprise_install": "false",
            "response_url": self.emu.new_response_url(channel_id, user_id),
            "trigger_id": self.emu.issue_trigger(user_id),
        }

    def command(
        self,
        command: str,
        text: str,
        user_id: str,
        channel_id: str = "C_GENERAL",
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> DriverResponse:
        form = self.command_payload(command, text, user_id, channel_id)
        return self.send(
            urlencode(form),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
            signed=signed,
            response_url=form["response_url"],
            trigger_id=form["trigger_id"],
        )

    def event_payload(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """The `event_callback` envelope of an Events API event (HTTP body, or Socket Mode payload)."""
        return {
            "token": self.verification_token,
            "team_id": self.emu.team_id,
            "api_app_id": self.emu.app_id,
            "event": {"event_ts": self.emu.new_ts(), **event},
            "type": "event_callback",
            "event_id": event_id or self.emu.new_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.emu.team_id,
                    "is_bot": True,
                    "user_id": self.emu.bot_user_id,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{self.emu.new_id('ctx')}",
        }

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> DriverResponse:
        envelope = self.event_payload(event, event_id)
        headers = (
            {}
            if retry_num is None
            else {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        )
        return self.send(
            json.dumps(envelope),
            "application/json",
            timestamp=timestamp,
            signature=signature,
            signed=signed,
            headers=headers,
        )

    def message(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> DriverResponse:
        """A user types a message: it lands in the emulator and the bot gets the `message` event."""
        msg = self.emu.add_message(channel_id, user_id, text, thread_ts=thread_ts)
        ch = self.emu.get_channel(channel_id)
        kind = "im" if ch and ch.is_im else "group" if ch and ch.is_private else "channel"
        return self.event(
            {**msg, "channel": ch.id if ch else channel_id, "channel_type": kind, "event_ts": msg["ts"]}
        )

    def action(
        self,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> DriverResponse:
        """Any interactivity payload, form-encoded as `payload=<json>` the way Slack sends it."""
        return self.send(
            urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
            signed=signed,
            response_url=payload.get("response_url"),
            trigger_id=payload.get("trigger_id"),
        )

    def block_action(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        *,
        selected_value: str | None = None,
        **sign_opts: Any,
    ) -> DriverResponse:
        """Click a button (or pick `selected_value` in a select) on a channel or ephemeral message."""
        message, ephemeral = self._find_message(channel_id, message_ts)
        found = next(
            (
                a
                for a in collect_actions(message.get("blocks"))
                if a.action_id == action_id and (block_id is None or a.block_id == block_id)
            ),
            None,
        )
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or (found.block_id if found else None) or "b0",
            "type": found.type if found else "button",
            "action_ts": self.emu.new_ts(),
            "text": {"type": "plain_text", "text": found.label if found else action_id, "emoji": True},
        }
        if value is not None or (found and found.value is not None):
            action["value"] = value if value is not None else found.value if found else None
        if selected_value is not None:
            options = found.options if found else ()
            label = next((o[0] for o in options if o[1] == selected_value), selected_value)
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": label},
                "value": selected_value,
            }
        response_url = self.emu.new_response_url(channel_id, user_id, None if ephemeral else message_ts)
        payload = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.emu.app_id,
            "token": self.verification_token,
            "trigger_id": self.emu.issue_trigger(user_id),
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            },
            "team": {"id": self.emu.team_id, "domain": self.emu.domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        return self.action(payload, **sign_opts)

    def press(
        self, user_id: str, channel_id: str, message_ts: str, number: int, selected_value: str | None = None
    ) -> DriverResponse:
        """Press the element numbered `number` in render.blocks_to_text's output (the console's buttons)."""
        message, _ = self._find_message(channel_id, message_ts)
        ref = next((a for a in collect_actions(message.get("blocks")) if a.number == number), None)
        if ref is None:
            raise LookupError(f"no action [{number}] in message {message_ts}")
        return self.block_action(
            user_id,
            channel_id,
            message_ts,
            ref.action_id,
            block_id=ref.block_id,
            selected_value=selected_value,
        )

    def view_submission(
        self,
        user_id: str,
        view_callback_id: str,
        state_values: dict[str, Any],
        private_metadata: str | None = None,
        view_id: str | None = None,
        **sign_opts: Any,
    ) -> DriverResponse:
        """Submit the user's open modal (the top one with that callback_id); the ack then drives the stack."""
        stack = [v for v in self.emu.open_modals(user_id) if v["callback_id"] == view_callback_id]
        view = dict(self.emu.views.get(view_id, {}) if view_id else stack[-1] if stack else {})
        view.setdefault("id", view_id or self.emu.new_id("V"))
        view.update(type="modal", callback_id=view_callback_id, state={"values": state_values})
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        payload = {
            "type": "view_submission",
            "team": {"id": self.emu.team_id, "domain": self.emu.domain},
            "user": self._user(user_id),
            "api_app_id": self.emu.app_id,
            "token": self.verification_token,
            "trigger_id": self.emu.issue_trigger(user_id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        resp = self.action(payload, **sign_opts)
        if resp.status == 200:
            try:
                ack = resp.json()
            except ValueError:
                ack = None
            apply_submission_ack(self.emu, user_id, view["id"], ack if isinstance(ack, dict) else None)
        return resp

    # lookups ---------------------------------------------------------------------------------------
    def _find_message(self, channel_id: str, ts: str) -> tuple[dict[str, Any], bool]:
        with self.emu.lock:
            ch = self.emu.get_channel(channel_id)
            msg = ch.find(ts) if ch else None
            if msg is not None:
                return dict(msg), False
            eph = next((e for e in self.emu.ephemerals(channel_id) if e["ts"] == ts), None)
            if eph is not None:
                return {
                    "type": "message",
                    "ts": ts,
                    "text": eph["text"],
                    "blocks": eph.get("blocks") or [],
                }, True
        return {"type": "message", "ts": ts, "text": ""}, False

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.emu.team_id}

    def _user_name(self, user_id: str) -> str:
        user = self.emu.users.get(user_id)
        return user.name if user else user_id

    def _channel_name(self, channel_id: str) -> str:
        ch = self.emu.channels.get(channel_id)
        if ch is None:
            return channel_id
        if ch.is_im:
            return "directmessage"
        return "privategroup" if ch.is_private and not ch.is_mpim else ch.name
