"""Block Kit → plain text for the console and for test assertions; interactive elements get numbers."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Resolver = Callable[[str], str | None]
_LINK = re.compile(r"<([^<>]+)>")
_OPTION_TYPES = ("static_select", "overflow", "radio_buttons", "checkboxes", "multi_static_select")


@dataclass(frozen=True)
class ActionRef:
    """A pressable element, as numbered in the rendered text."""

    number: int
    action_id: str
    block_id: str | None
    type: str
    label: str
    value: str | None = None
    url: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (label, value) of selects, overflows, radios


def mrkdwn_to_text(text: str, resolve_user: Resolver | None = None) -> str:
    """`<url|label>` → `label (url)`, `<@U1>` → `@name`, `<!here>` → `@here`; entities decoded."""

    def link(m: re.Match[str]) -> str:
        target, _, label = m.group(1).partition("|")
        if target.startswith("@"):
            name = (resolve_user(target[1:]) if resolve_user else None) or label or target[1:]
            return "@" + name.lstrip("@")
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^")
            if special[0] in ("here", "channel", "everyone"):
                return "@" + special[0]
            return label or ("@" + special[1] if special[0] == "subteam" and len(special) > 1 else special[0])
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(link, text))


def _plain(obj: Any, resolve_user: Resolver | None = None) -> str:
    if isinstance(obj, dict):
        text = str(obj.get("text", ""))
        return mrkdwn_to_text(text, resolve_user) if obj.get("type") == "mrkdwn" else text
    return str(obj or "")


class _Renderer:
    def __init__(self, resolve_user: Resolver | None, start: int) -> None:
        self.resolve_user, self.next_number = resolve_user, start
        self.actions: list[ActionRef] = []

    def element(self, el: dict[str, Any], block_id: str | None) -> str:
        kind, action_id = el.get("type", ""), str(el.get("action_id", ""))
        label = _plain(el.get("text") or el.get("placeholder")) or kind.replace("_", " ")
        options = tuple((_plain(o.get("text")), str(o.get("value", ""))) for o in el.get("options", []))
        ref = ActionRef(
            self.next_number, action_id, block_id, kind, label, el.get("value"), el.get("url"), options
        )
        self.actions.append(ref)
        self.next_number += 1
        line = f"[{ref.number}] [{label}]({action_id})"
        if options:
            line += ": " + " | ".join(o[0] for o in options)
        return line + (f" <{el['url']}>" if el.get("url") else "")

    def rich(self, el: dict[str, Any]) -> str:
        kind = el.get("type")
        if kind == "text":
            return str(el.get("text", ""))
        if kind == "link":
            return f"{el['text']} ({el['url']})" if el.get("text") else str(el.get("url", ""))
        if kind == "user":
            uid = str(el.get("user_id", ""))
            return "@" + ((self.resolve_user(uid) if self.resolve_user else None) or uid)
        if kind == "channel":
            return "#" + str(el.get("channel_id", ""))
        if kind == "usergroup":
            return "@" + str(el.get("usergroup_id", ""))
        if kind == "broadcast":
            return "@" + str(el.get("range", "here"))
        if kind == "emoji":
            return f":{el.get('name', '')}:"
        inner = "".join(self.rich(e) for e in el.get("elements", []))
        if kind == "rich_text_list":
            bullets = [
                (f"{i}. " if el.get("style") == "ordered" else "• ") + self.rich(item)
                for i, item in enumerate(el.get("elements", []), 1)
            ]
            return "\n".join("  " * int(el.get("indent", 0)) + b for b in bullets) + "\n"
        if kind == "rich_text_preformatted":
            return f"```\n{inner}\n```\n"
        if kind == "rich_text_quote":
            return "\n".join("> " + line for line in inner.splitlines()) + "\n"
        return inner

    def block(self, b: dict[str, Any]) -> str:
        kind, bid = b.get("type"), b.get("block_id")
        text = _plain(b.get("text"), self.resolve_user)
        if kind == "header":
            return f"{text}\n{'=' * min(len(text), 60)}"
        if kind == "divider":
            return "---"
        if kind == "section":
            lines = [text] if text else []
            lines += ["  " + _plain(f, self.resolve_user) for f in b.get("fields", [])]
            acc = b.get("accessory")
            if isinstance(acc, dict):
                lines.append(
                    f"[image: {acc.get('alt_text', '')}]"
                    if acc.get("type") == "image"
                    else self.element(acc, bid)
                )
            return "\n".join(lines)
        if kind == "context":
            return " · ".join(
                f"[image: {e.get('alt_text', '')}]"
                if e.get("type") == "image"
                else _plain(e, self.resolve_user)
                for e in b.get("elements", [])
            )
        if kind == "actions":
            return "\n".join(self.element(e, bid) for e in b.get("elements", []))
        if kind == "image":
            title = _plain(b.get("title"))
            return f"[image: {b.get('alt_text', '')}]" + (f" {title}" if title else "")
        if kind == "input":
            el = b.get("element", {})
            label = _plain(b.get("label")) + (" (optional)" if b.get("optional") else "")
            initial = el.get("initial_value") or _plain((el.get("initial_option") or {}).get("text"))
            line = f"{label}: <{el.get('type', 'input')} {bid}/{el.get('action_id', '')}>"
            hint = f"\n  {_plain(b['hint'])}" if b.get("hint") else ""
            return line + (f" = {initial!r}" if initial else "") + hint
        if kind == "rich_text":
            return "".join(self.rich(e) for e in b.get("elements", [])).rstrip("\n")
        if kind in ("video", "file"):
            return f"[{kind}: {_plain(b.get('title')) or b.get('external_id', '')}]"
        return f"[{kind} block]"


def blocks_to_text(
    blocks: list[dict[str, Any]] | None,
    text: str | None = None,
    resolve_user: Resolver | None = None,
    *,
    start: int = 1,
) -> str:
    """Readable text of a message; `text` (the notification fallback) is used only without blocks."""
    if not blocks:
        return mrkdwn_to_text(text or "", resolve_user)
    r = _Renderer(resolve_user, start)
    return "\n".join(part for part in (r.block(b) for b in blocks) if part != "")


def collect_actions(blocks: list[dict[str, Any]] | None, *, start: int = 1) -> list[ActionRef]:
    """The interactive elements of `blocks`, numbered exactly as blocks_to_text numbers them."""
    r = _Renderer(None, start)
    for b in blocks or []:
        r.block(b)
    return r.actions


def message_to_text(message: dict[str, Any], resolve_user: Resolver | None = None) -> str:
    """A whole message: blocks (or text), legacy attachments and shared files."""
    parts = [blocks_to_text(message.get("blocks"), message.get("text"), resolve_user)]
    for att in message.get("attachments") or []:
        body = blocks_to_text(
            att.get("blocks"),
            "\n".join(str(att[k]) for k in ("pretext", "title", "text") if att.get(k)),
            resolve_user,
        )
        parts.append("\n".join("| " + line for line in body.splitlines()))
    parts += [f"[file: {f.get('title') or f.get('name')}]" for f in message.get("files") or []]
    return "\n".join(p for p in parts if p)


def view_to_text(view: dict[str, Any], resolve_user: Resolver | None = None) -> str:
    """A modal or home tab: title, blocks, then its submit/close buttons."""
    title = _plain(view.get("title")) or view.get("type", "view")
    buttons = " ".join(f"[{_plain(view[k])}]" for k in ("submit", "close") if view.get(k))
    body = blocks_to_text(view.get("blocks"), None, resolve_user)
    return "\n".join(p for p in (f"== {title} ==", body, buttons) if p)
