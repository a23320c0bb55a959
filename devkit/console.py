"""`warroom console`: the whole bot offline — a REPL on the local Slack emulator and SQLite.

Every line you type goes to the real HTTP endpoint as a signed Slack request; what the bot
posts (channels, DMs, ephemeral answers) is read back from the emulator and printed as text.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import PolicyError, Settings, load_policy
from bot.i18n import N_, _
from devkit.slack_emulator import SlackDriver, SlackEmulator, blocks_to_text, collect_actions
from devkit.slack_emulator.render import ActionRef

_AT_NAME = re.compile(r"(^|\s)@([a-z][a-z0-9._-]*)\b")
_CHANNEL_REF = re.compile(r"#?<?#(C[A-Z0-9_]+)(?:\|[^>]*)?>?")
DEMO_POLICY = Path(__file__).with_name("console_demo.yml")
SECRET = "console-signing-secret"  # noqa: S105 - only signs requests to this process's own loopback server
PEOPLE = (("you", "U0YOU"), ("oncall", "U0ONCALL"), ("lead", "U0LEAD"), ("director", "U0DIRECTOR"))

HELP = N_("""Type Slack slash commands as you would in Slack:
  /incident p1 Checkout returns 502     declare (then you are moved into the new channel)
  /incident ack | note … | status … | sev p0 | commander @lead | resolve | timeline | help
  /diag help                            diagnostics
Console commands:
  :as <user>      act as another person (you, oncall, lead, director, or a U… id)
  :in <#channel>  move to a channel (name or id); :channels lists them
  :say <text>     post a message here;  :pin <n> / :react <n> pin or :pushpin: message n
  :press <n|label> press button [n], or the newest button with that label (:press acknowledge)
  :dms [user]     show the DMs the bot sent to a person (pages, reminders)
  :wait <sec>     let time pass and show what happened;  :help;  :quit
  :rehearse [p1] [--at "2026-12-06 03:00 Asia/Shanghai"] [--ack-after 20m]
                  who this policy would page when (a fake clock; nothing is sent)""")


@dataclass
class Screen:
    """What has been shown, so only new activity is printed and buttons can be pressed by number."""

    seen: set[tuple[str, str]] = field(default_factory=set)
    seen_ephemeral: int = 0
    # n -> (channel, ts, the button itself): a number names one button, not a position that an
    # update of the message may hand to another (pressing [3] once resolved an incident that way).
    buttons: dict[int, tuple[str, str, ActionRef]] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)  # n -> the button's label
    numbered: dict[int, tuple[str, str]] = field(default_factory=dict)  # message n -> (channel, ts)


class Console:
    def __init__(self, database_url: str, policy_path: str | None):
        from bot.app import build_bolt_app, build_runtime
        from bot.http import HttpServer, make_wsgi_app
        from bot.scheduler import start_scheduler

        self.emu = SlackEmulator().start()
        for name, uid in PEOPLE:
            self.emu.add_user(name, id=uid)
        self.emu.add_channel("incidents", id="C0INCIDENTS", members=[uid for _, uid in PEOPLE])
        self.user = "U0YOU"
        self.channel = "C_GENERAL"
        policy = load_policy(policy_path)
        settings = Settings(
            slack_bot_token=self.emu.bot_token,
            slack_signing_secret=SECRET,
            slack_api_url=self.emu.api_url,
            database_url=database_url,
        )
        self.runtime = build_runtime(settings, policy)
        app = build_bolt_app(self.runtime)
        self.server = HttpServer(make_wsgi_app(app, self.runtime), host="127.0.0.1", port=0).start()
        self.driver = SlackDriver(f"http://127.0.0.1:{self.server.port}/slack/events", SECRET, self.emu)
        self.scheduler = start_scheduler(self.runtime)
        self.screen = Screen()
        # History from earlier console sessions lives in SQLite, not in the emulator: start clean on screen.

    def close(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.server.stop()
        self.emu.stop()
        self.runtime.engine.dispose()

    # output --------------------------------------------------------------------------------
    def _name(self, user_id: str) -> str:
        user = self.emu.users.get(user_id)
        return f"@{user.name}" if user else user_id

    def _channel_label(self, channel_id: str) -> str:
        channel = self.emu.get_channel(channel_id)
        if channel is None:
            return channel_id
        if channel.is_im:
            other = next((m for m in channel.members if m != self.emu.bot_user_id), "?")
            return _("DM → {who}", who=self._name(other))
        return f"#{channel.name}"

    def settle(self, timeout: float = 8.0, since: int | None = None) -> None:
        """Wait until the bot has gone quiet; with `since`, first wait for it to start (a button press)."""
        deadline = time.monotonic() + timeout
        if since is not None:
            start_by = time.monotonic() + 3
            while len(self.emu.calls) == since and time.monotonic() < start_by:
                time.sleep(0.05)
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.emu.calls)
            if count != last:
                last, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since > 0.5:
                return
            time.sleep(0.05)

    def show_new(self) -> None:
        lines: list[str] = []
        for channel in list(self.emu.channels.values()):
            for message in self.emu.messages(channel.id):
                key = (channel.id, message["ts"])
                edited = message.get("edited", {}).get("ts")
                if edited:
                    key = (channel.id, f"{message['ts']}@{edited}")
                if key in self.screen.seen:
                    continue
                self.screen.seen.add(key)
                lines.append(self._render(channel.id, message, updated=bool(edited)))
        ephemerals = self.emu.ephemerals()
        for message in ephemerals[self.screen.seen_ephemeral :]:
            if message.get("user") in (self.user, None):
                lines.append(self._render(message.get("channel", ""), message, ephemeral=True))
        self.screen.seen_ephemeral = len(ephemerals)
        if lines:
            print("\n".join(lines))

    def _render(
        self, channel_id: str, message: dict[str, Any], *, updated: bool = False, ephemeral: bool = False
    ) -> str:
        number = len(self.screen.numbered) + 1
        self.screen.numbered[number] = (channel_id, message.get("ts", ""))
        start = len(self.screen.buttons) + 1
        blocks = message.get("blocks")
        body = blocks_to_text(blocks, message.get("text"), resolve_user=self._name, start=start)
        for ref in collect_actions(blocks or [], start=start) if blocks else []:
            self.screen.buttons[ref.number] = (channel_id, message.get("ts", ""), ref)
            self.screen.labels[ref.number] = ref.label
        who = (
            _("only you")
            if ephemeral
            else self._name(message.get("user", ""))
            if message.get("user")
            else "warroom"
        )
        tag = _(" (updated)") if updated else ""
        header = f"── {number}. {self._channel_label(channel_id)} · {who}{tag}"
        body = _CHANNEL_REF.sub(lambda m: self._channel_label(m.group(1)), body)
        return header + "\n" + "\n".join("   " + line for line in body.splitlines())

    # input ---------------------------------------------------------------------------------
    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            self.show_new()
            return True
        if line.startswith("/"):
            name, _sep, text = line.partition(" ")
            before = {c.id for c in self.emu.channels.values()}
            modals = len(self.emu.open_modals(self.user))
            response = self.driver.command(
                name, self._mentions(text), user_id=self.user, channel_id=self.channel
            )
            if response.status != 200:
                print(f"HTTP {response.status}: {response.body}")
            elif response.body:
                body = response.json() if response.body.startswith("{") else {"text": response.body}
                if body.get("text"):
                    answer = blocks_to_text(body.get("blocks"), body["text"], resolve_user=self._name)
                    print(_("── only you") + "\n   " + answer.replace("\n", "\n   "))
            if response.status == 200 and (not response.body.strip() or "⏳" in response.body):
                # Work after the ack ends with an answer to the person: wait for it before showing the result.
                response.wait_responses(1, timeout=15)
            self.settle()
            new = [c for c in self.emu.channels.values() if c.id not in before and c.name.startswith("inc-")]
            if new:
                self.channel = new[-1].id
                print(_("(you are now in #{channel})", channel=new[-1].name))
            self._show_modals(modals)
            self.show_new()
            return True
        verb, _sep, rest = line.partition(" ")
        return self._console_verb(verb, rest.strip())

    def _console_verb(self, verb: str, rest: str) -> bool:
        if verb in (":quit", ":q", ":exit"):
            return False
        if verb == ":help":
            print(_(HELP))
        elif verb == ":as":
            target = next((uid for name, uid in PEOPLE if name == rest.lstrip("@")), rest)
            if target not in self.emu.users:
                print(
                    _(
                        "Unknown person {name}. People: {people}",
                        name=repr(rest),
                        people=", ".join(name for name, _uid in PEOPLE),
                    )
                )
            else:
                self.user = target
                print(_("(you are now {who})", who=self._name(target)))
        elif verb == ":in":
            channel = self.emu.get_channel(rest.lstrip("#"))
            if channel is None:
                print(_("No channel {name}. :channels lists them.", name=repr(rest)))
            else:
                self.channel = channel.id
                print(_("(you are now in #{channel})", channel=channel.name))
        elif verb == ":channels":
            for channel in self.emu.channels.values():
                if not channel.is_im:
                    here = _("  ← here") if channel.id == self.channel else ""
                    print(f"  #{channel.name} ({channel.id}){here}")
        elif verb == ":say":
            self.driver.message(self.user, self.channel, self._mentions(rest))
            self.settle()
            self.show_new()
        elif verb in (":pin", ":react"):
            self._pin_or_react(verb, rest)
        elif verb == ":press":
            self._press(rest)
        elif verb == ":dms":
            target = next((uid for name, uid in PEOPLE if name == rest.lstrip("@")), rest or self.user)
            for message in self.emu.dms(target):
                print(self._render(self.emu.dm_channel(target).id, message))
        elif verb == ":rehearse":
            from bot.rehearse.cli import console_rehearsal

            print("\n".join(console_rehearsal(self.runtime.policy, rest, self.runtime.clock.now()).lines))
        elif verb == ":wait":
            time.sleep(min(float(rest or 1), 120))
            self.show_new()
        else:
            print(_("Unknown console command {verb}. :help lists them.", verb=verb))
        return True

    def _press(self, rest: str) -> None:
        if not rest.isdigit():
            # `:press acknowledge`: the newest button with that label, as a person would find it on screen.
            matches = [n for n, label in self.screen.labels.items() if label.lower().startswith(rest.lower())]
            rest = str(max(matches)) if rest and matches else rest
        if not rest.isdigit() or int(rest) not in self.screen.buttons:
            print(_("Which button? `:press <n>` with a number shown as [n], or `:press <label>`."))
            return
        channel, ts, shown = self.screen.buttons[int(rest)]
        if not self._still_there(channel, ts, shown):
            print(
                _(
                    "Button [{n}] ({label}) is no longer on that message: it has been updated since. "
                    "Press a number from the updated message (shown as (updated)); nothing was pressed.",
                    n=rest,
                    label=shown.label,
                )
            )
            return
        before = len(self.emu.calls)
        self.driver.block_action(
            self.user, channel, ts, shown.action_id, value=shown.value, block_id=shown.block_id
        )
        self.settle(since=before)
        self.show_new()

    def _still_there(self, channel: str, ts: str, shown: ActionRef) -> bool:
        """The very button that was shown — same action, block and value — is on the message now."""
        message = next((m for m in self.emu.messages(channel) if m.get("ts") == ts), None)
        if message is None:
            message = next(
                (
                    m
                    for m in self.emu.ephemerals(channel)
                    if m.get("ts") == ts and m.get("user") in (self.user, None)
                ),
                None,
            )
        if message is None:
            return False
        return any(
            (ref.action_id, ref.block_id, ref.value) == (shown.action_id, shown.block_id, shown.value)
            for ref in collect_actions(message.get("blocks") or [])
        )

    def _mentions(self, text: str) -> str:
        """`@lead` as Slack sends it: `<@U0LEAD|lead>` for a person of that name; other words unchanged."""

        def person(match: re.Match[str]) -> str:
            user = self.emu.user_by_name(match.group(2))
            return f"{match.group(1)}<@{user.id}|{user.name}>" if user else match.group(0)

        return _AT_NAME.sub(person, text)

    def _show_modals(self, before: int) -> None:
        """A modal the command opened (`/incident` alone opens the declare form), printed as text."""
        modals = self.emu.open_modals(self.user)
        for view in modals[before:]:
            title = (view.get("title") or {}).get("text", "modal")
            body = blocks_to_text(view.get("blocks"), "", resolve_user=self._name)
            print(_("── modal: {title} (only you)", title=title) + "\n   " + body.replace("\n", "\n   "))
            print(
                _("   (the console cannot fill in forms: type `/incident p1 <title>` to declare from here)")
            )

    def _pin_or_react(self, verb: str, rest: str) -> None:
        if not rest.isdigit() or int(rest) not in self.screen.numbered:
            print(_("Which message? `{verb} <n>` with the number shown as `── n.`", verb=verb))
            return
        channel, ts = self.screen.numbered[int(rest)]
        if verb == ":pin":
            self.driver.event(
                {
                    "type": "pin_added",
                    "user": self.user,
                    "channel_id": channel,
                    "item": {"type": "message", "channel": channel, "message": {"ts": ts}},
                }
            )
        else:
            self.driver.event(
                {
                    "type": "reaction_added",
                    "user": self.user,
                    "reaction": "pushpin",
                    "item": {"type": "message", "channel": channel, "ts": ts},
                }
            )
        self.settle()
        print(_("(recorded on the timeline if this is an incident channel: /incident timeline shows it)"))


def run_console(database_url: str | None = None, config: str | None = None) -> int:
    env = Settings()
    database_url = database_url or os.environ.get("DATABASE_URL") or "sqlite:///warroom.db"
    policy_path = config or env.warroom_config or str(DEMO_POLICY)
    try:
        console = Console(database_url, policy_path)
    except PolicyError as exc:
        print(exc)
        return 2
    print(
        _(
            "Warroom console — database {database}, policy {policy}. Slack is emulated locally.",
            database=database_url,
            policy=policy_path,
        )
    )
    print(_(HELP))
    try:
        while True:
            try:
                prompt = _(
                    "{who} in {channel}> ",
                    who=console._name(console.user),
                    channel=console._channel_label(console.channel),
                )
                line = input(prompt)
            except EOFError:
                break
            try:
                if not console.handle(line):
                    break
            except (ValueError, shlex.Error) as exc:
                print(_("error: {error}", error=exc))
    except KeyboardInterrupt:
        print()
    finally:
        console.close()
    return 0
