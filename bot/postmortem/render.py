"""Markdown rendering of a postmortem draft with the Jinja2 templates in ./templates (en, zh).

Autoescape is off: the output is Markdown, not HTML. What people typed is made safe for Markdown
by the filters instead: Slack's markup (<@U…>, <url|label>, &lt;) becomes Markdown, a `|` cannot
split a table cell, a stray ``` cannot swallow the rest of the document, and a `<tag>` stays text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.config.durations import format_duration
from bot.i18n import _, use_language
from bot.incidents.timeline import BOT_ACTOR
from bot.postmortem.content import DraftContent

LANGUAGES = ("en", "zh")

# Slack's own markup only: mentions, channels, specials, and links with a scheme. Anything else in
# angle brackets came from a client that does not escape (the console) and stays text.
_SLACK_MARKUP = re.compile(r"<((?:[@#!]|[A-Za-z][A-Za-z0-9+.-]*:)[^<>\s|]*)(?:\|([^<>]*))?>")
_CODE = re.compile(r"(```.*?(?:```|$)|`[^`\n]+`)", re.DOTALL)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def from_slack(text: str) -> str:
    """Slack's message markup to plain Markdown: mentions, channel links, labelled links, entities."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label.lstrip("@") if label else target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):  # !here, !channel, !subteam^S…|@sre, !date^…|fallback
            if label:
                return label if target.startswith(("!subteam", "!date")) else "@" + label.lstrip("@")
            return "@" + target[1:].split("^")[0]
        return f"[{label}]({target})" if label else target

    text = _SLACK_MARKUP.sub(replace, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _outside_code(text: str, escape: Callable[[str], str]) -> str:
    """Apply `escape` to the prose only; code spans and fences are shown as typed."""
    parts = _CODE.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(escape(part))
        elif part.startswith("```") and (len(part) < 6 or not part.endswith("```")):
            out.append(part + "\n```")  # an unclosed fence would turn the rest of the draft into code
        else:
            out.append(part)
    return "".join(out)


def md(text: str | None, indent: int = 0) -> str:
    """User text for a paragraph or a list item; continuation lines are indented to stay in the item."""
    if not text:
        return ""
    safe = _outside_code(from_slack(text).strip(), lambda s: _TAG_START.sub(r"\\<", s))
    lines = safe.splitlines()
    if len(lines) <= 1:
        return safe
    pad = " " * indent
    out, in_fence = [lines[0]], lines[0].lstrip().startswith("```")
    for line in lines[1:]:
        # Prose gets two trailing spaces (a hard line break) so a pasted message keeps its lines;
        # code inside a fence is left exactly as typed.
        out[-1] += "" if in_fence or not out[-1].strip() else "  "
        out.append(pad + line if line.strip() else "")
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
    return "\n".join(out)


def cell(text: str | None) -> str:
    """User text for a table cell: one line, no bare `|`."""
    if not text:
        return ""
    flat = from_slack(text).strip().replace("```", "`")
    flat = _TAG_START.sub(r"\\<", flat)
    flat = flat.replace("|", r"\|")
    return "<br>".join(line.strip() for line in flat.splitlines() if line.strip())


def code(text: str | None) -> str:
    """An inline code span that survives backticks inside (a fence longer than any run of them)."""
    if not text:
        return ""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def stamp(moment: datetime) -> str:
    """Timeline entries keep the seconds: acknowledgements and pages are seconds apart."""
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    # Seconds matter under a minute only; "2h 30m 12s" reads worse than "2h 30m" in a report.
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        seconds -= seconds % 60
    return format_duration(timedelta(seconds=seconds))


def who(user_id: str | None) -> str:
    if not user_id:
        return ""
    if user_id == BOT_ACTOR:
        return "Warroom"
    return "@" + user_id


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.postmortem", "templates"),
        autoescape=False,  # noqa: S701 - Markdown output; user text is escaped by md/cell instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters.update(md=md, cell=cell, code=code, utc=utc, stamp=stamp, dur=duration, who=who)
    env.filters["said"] = lambda event: event.said()
    return env


def render(content: DraftContent, *, language: str = "en", version: int = 1) -> str:
    if language not in LANGUAGES:
        raise ValueError(_("Unknown language `{language}`: use en or zh.", language=language))
    template = environment().get_template(f"postmortem.{language}.md.j2")
    # Warroom's own timeline rows are stored in English with what renders them again: in the
    # document's language here, whoever asked for it (the chat renders them in the reader's).
    with use_language(language):
        body = template.render(c=content, i=content.incident, m=content.metrics, version=version)
    return re.sub(r"\n{3,}", "\n\n", body).rstrip() + "\n"
