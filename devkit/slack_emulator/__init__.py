"""Local Slack Web API emulator and request driver used by tests and the offline console."""

from devkit.slack_emulator.driver import DriverResponse, SlackDriver
from devkit.slack_emulator.model import Channel, File, User, Usergroup
from devkit.slack_emulator.render import (
    ActionRef,
    blocks_to_text,
    collect_actions,
    message_to_text,
    view_to_text,
)
from devkit.slack_emulator.server import Call, SlackEmulator
from devkit.slack_emulator.state import Workspace

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
