"""Block Kit for `/remediate`: the preview with Confirm / Cancel, its settled states, and refusals.

Engine text (query text, image names, states) arrives masked; here it is escaped strictly so it
can never mention or link anyone. A settled message keeps its preview (what was to change) and
swaps the buttons for the outcome, so the channel keeps the before → after record.
"""

from __future__ import annotations

from typing import Any

from bot.remediation.actions.base import Change
from bot.remediation.flows import Decision, Proposal
from bot.remediation.grammar import COMMAND
from bot.slack.blocks.common import Block, actions, button, clip, context, fields, header, section, when
from bot.slack.blocks.diagnostics import escape as strict

CONFIRM_ACTION = "remediate_confirm"
CANCEL_ACTION = "remediate_cancel"
ACTIONS_BLOCK = "remediate_actions"
STATUS_BLOCK = "remediate_status"

_REFUSAL_TITLES = {
    "not_allowed": "Not allowed",
    "expired": "Expired",
    "already_used": "Already used",
    "tampered": "Tampered",
    "out_of_bounds": "Out of bounds",
    "grow_only": "Grow only",
    "no_key": "Not configured",
}


def who(ids: tuple[str, ...] | list[str]) -> str:
    """User ids as mentions, group ids as group mentions; "nobody" when empty."""
    parts = [f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in ids]
    return ", ".join(parts) if parts else "nobody (set `roles.remediators`)"


def _code(text: str) -> str:
    return "`" + strict(text.replace("`", "ˋ")) + "`"


def _change_lines(changes: list[Change]) -> str:
    return "\n".join(f"• *{strict(c.what)}*: {_code(c.before)} → {_code(c.after)}" for c in changes)


def _facts(facts: list[tuple[str, str]]) -> list[Block]:
    if not facts:
        return []
    return [fields([(strict(name), strict(clip(value, 1500)) or "-") for name, value in facts])]


def render_preview(proposal: Proposal, remediators: tuple[str, ...]) -> tuple[str, list[Block]]:
    preview, claims = proposal.preview, proposal.claims
    command = f"{COMMAND} {proposal.request.text}"
    text = f"🛠️ {preview.title}: {'; '.join(str(c) for c in preview.changes)} — confirm or cancel"
    blocks: list[Block] = [
        header(f"🛠️ {preview.title}"),
        section(clip("*Will change*\n" + _change_lines(preview.changes), 2900)),
        *_facts(preview.facts),
    ]
    if preview.note:
        blocks.append(context(strict(preview.note)))
    blocks.append(
        context(
            f"Requested by <@{claims.requester}> · {_code(command)} · the Confirm button works once, until "
            f"{when(claims.expires)} · who may confirm: {who(remediators)}"
        )
    )
    blocks.append(
        actions(
            ACTIONS_BLOCK,
            button("Confirm", CONFIRM_ACTION, proposal.token, style="danger"),
            button("Cancel", CANCEL_ACTION, proposal.token),
        )
    )
    return clip(text, 3000), blocks


def _kept(blocks: list[dict[str, Any]] | None) -> list[Block]:
    """The preview's blocks without its buttons and without an earlier status line."""
    return [b for b in blocks or [] if b.get("block_id") not in (ACTIONS_BLOCK, STATUS_BLOCK)]


def _status(markdown: str) -> Block:
    return {
        "type": "section",
        "block_id": STATUS_BLOCK,
        "text": {"type": "mrkdwn", "text": clip(markdown, 2900)},
    }


def render_applying(original: list[dict[str, Any]] | None, actor: str, title: str) -> tuple[str, list[Block]]:
    line = f"⏳ Confirmed by <@{actor}> — applying…"
    return f"{title}: {line}", [*_kept(original), _status(line)]


def render_settled(decision: Decision, original: list[dict[str, Any]] | None) -> tuple[str, list[Block]]:
    requester = f"<@{decision.claims.requester}>" if decision.claims else "someone"
    took = f" in {decision.elapsed_ms / 1000:.1f} s" if decision.elapsed_ms is not None else ""
    if decision.status == "applied" and decision.applied is not None:
        applied = decision.applied
        line = f"✅ *Done*: {strict(applied.summary)}. Confirmed by <@{decision.actor}>{took} (requested by {requester})."
        if applied.changes:
            line += "\n" + _change_lines(applied.changes)
        if applied.note:
            line += "\n" + strict(applied.note)
    elif decision.status == "failed":
        line = f"❌ *Failed* after confirmation by <@{decision.actor}>{took}: {strict(decision.message)}"
    elif decision.status == "cancelled":
        line = f"🚫 *Cancelled* by <@{decision.actor}>; nothing was changed (requested by {requester})."
    elif decision.code == "expired":
        line = f"⌛ *Expired*: nobody confirmed in time; nothing was changed. {strict(decision.message)}"
    else:
        line = f"⛔ *Refused* after confirmation by <@{decision.actor}>: {strict(decision.message)}"
    return clip(line, 3000), [*_kept(original), _status(line)]


def refusal_text(decision: Decision) -> str:
    """The ephemeral answer to a click that changed nothing: why, and who may."""
    title = _REFUSAL_TITLES.get(decision.code or "", "Refused")
    text = f"⛔ *{title}*: {strict(decision.message)}"
    if decision.code == "already_used" and decision.settled_by:
        outcome, user = decision.settled_by
        text = f"⛔ *{title}*: this confirmation was already used — {outcome} by <@{user}>. It works once."
    if decision.code == "not_allowed":
        requester = f"<@{decision.claims.requester}>" if decision.claims else "the requester"
        text += f"\nWho may confirm: {who(decision.allowed_ids)}. The requester ({requester}) may cancel."
    return text


def request_refusal_text(code: str | None, message: str, allowed: tuple[str, ...] = ()) -> str:
    title = _REFUSAL_TITLES.get(code or "", "Refused")
    return f"⛔ *{title}*: {strict(message)} Nothing was changed."


NOT_A_MEMBER = (
    "The bot is not in this channel, so only you can see this preview (and only a remediator can confirm "
    "it). Invite the bot with `/invite @warroom` so the team sees it."
)


def not_a_member_note() -> Block:
    """Under a preview only the requester sees: why, and how to let the team see it."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": NOT_A_MEMBER}]}
