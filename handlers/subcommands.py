"""The `/incident` sub-command registry: each handler module registers its verbs here.

A sub-command runs after the ack (the router acks first), so it may use the network freely.
It answers the user with `ctx.respond` (ephemeral) and raises `IncidentError` for user errors;
the router turns those into an ephemeral message and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.runtime import Runtime


@dataclass
class CommandContext:
    runtime: Runtime
    client: WebClient
    user_id: str
    channel_id: str
    verb: str
    args: str  # the text after the verb, stripped
    trigger_id: str | None
    respond: Callable[..., Any]  # Bolt's respond(): ephemeral by default
    request_key: str | None = None  # idempotency key of the request (trigger_id)
    incident_id: int | None = None  # set by the router for in-incident verbs
    extra: dict[str, Any] = field(default_factory=dict)


SubcommandFunc = Callable[[CommandContext], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    func: SubcommandFunc
    usage: str
    summary: str
    in_incident: bool  # only inside an incident channel


SUBCOMMANDS: dict[str, Subcommand] = {}

# Chinese words for the verbs (docs/i18n.md): `/incident 确认` is `/incident ack`. The English
# command words keep working in both languages; an alias of a verb not installed is unknown.
ALIASES: dict[str, str] = {
    "确认": "ack",
    "止损": "mitigated",
    "已缓解": "mitigated",
    "解决": "resolve",
    "重开": "reopen",
    "级别": "sev",
    "指挥": "commander",
    "角色": "role",
    "备注": "note",
    "状态": "status",
    "时间线": "timeline",
    "列表": "list",
    "帮助": "help",
    "呼叫": "page",
    "值班": "oncall",
    "复盘": "postmortem",
    "改进": "action",
    "评审": "review",
}


def verb_of(word: str) -> str:
    """The command word a typed verb means: `ACK` -> ack, `确认` -> ack; anything else lower-cased."""
    word = word.lower()
    return ALIASES.get(word, word)


def aliases_of(verb: str) -> list[str]:
    return [alias for alias, target in ALIASES.items() if target == verb]


def subcommand(
    name: str, usage: str, summary: str, *, in_incident: bool = True
) -> Callable[[SubcommandFunc], SubcommandFunc]:
    def decorate(func: SubcommandFunc) -> SubcommandFunc:
        SUBCOMMANDS[name] = Subcommand(name, func, usage, summary, in_incident)
        return func

    return decorate
