"""Text helpers shared by the domain's messages and the Slack renderers: mrkdwn-safe, clean, size-bounded.

Two jobs, kept apart on purpose:
- `clean` runs where text comes in (titles, notes, status updates, roles…): it removes what no
  person means to type and what can disguise text — control characters, NUL, terminal escapes and
  bidirectional overrides — before anything is stored.
- `escape` runs where text goes out to Slack as mrkdwn (fallback `text`, blocks, error replies,
  pages, announcements, DMs): it is the one function that keeps user text from becoming a broadcast
  (<!channel>, <!here>, <!everyone>, <!subteam^…>) or a disguised link (<https://evil|click>).
"""

from __future__ import annotations

import re

# Mentions of people stay live (docs/decisions.md) and so do channel references, which notify
# nobody; a label is dropped so `<#C1|anything>` cannot dress a channel up as something else.
_KEPT = re.compile(r"&lt;(@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^&]*?)?&gt;")

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks (unterminated too)
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes, and a lone ESC
)
# C0 controls but tab and newline, DEL, C1 controls; bidi embeddings/overrides/isolates (U+202A–E,
# U+2066–9), which make `exe.txt` read as `txt.exe`; and the line/paragraph separators.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def escape(text: str) -> str:
    """Slack's control characters escaped, so text cannot become a link or a broadcast; mentions stay."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _KEPT.sub(r"<\1>", escaped)


def clean(text: str) -> str:
    """Text as a person meant it: terminal escapes, control characters and bidi overrides removed.

    Carriage returns become line breaks; tabs and line breaks stay (notes may have several lines).
    """
    if not text:
        return text
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
