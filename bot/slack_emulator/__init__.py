"""Local Slack Web API emulator and request driver used by tests and the offline console."""

from bot.slack_emulator.driver import DriverResponse, SlackDriver
from bot.slack_emulator.model import Channel, File, User, Usergroup
from bot.slack_emulator.render import (
    ActionRef,
    blocks_to_text,
    collect_actions,
    message_to_text,
    view_to_text,
)
from bot.slack_emulator.server import Call, SlackEmulator
from bot.slack_emulator.state import Workspace

__all__ = [
    "ActionRef",
    "Call",
    "Channel",
    "DriverResponse",
    "File",
    "SlackDriver",
    "SlackEmulator",
    "User",
    "Usergroup",
    "Workspace",
    "blocks_to_text",
    "collect_actions",
    "message_to_text",
    "view_to_text",
]
