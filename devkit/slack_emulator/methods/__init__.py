"""Web API method handlers; importing the modules fills REGISTRY."""

from devkit.slack_emulator.methods import chat, conversations, directory, files, items, views
from devkit.slack_emulator.methods.base import REGISTRY, Ctx, Method, SlackError

__all__ = [
    "REGISTRY",
    "Ctx",
    "Method",
    "SlackError",
    "chat",
    "conversations",
    "directory",
    "files",
    "items",
    "views",
]
