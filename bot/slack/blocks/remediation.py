"""Block Kit for `/remediate`: the preview with Confirm / Cancel, its settled states, and refusals.

Engine text (query text, image names, states) arrives masked; here it is escaped strictly so it
can never mention or link anyone. A settled message keeps its preview (what was to change) and
swaps the buttons for the outcome, so the channel keeps the before → after record.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import N_, _
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
    "not_allowed": N_("Not allowed"),
    "expired": N_("Expired"),
    "already_used": N_("Already used"),
    "tampered": N_("Tampered"),
    "out_of_bounds": N_("Out of bounds"),
    "grow_only": N_("Grow only"),
    "no_key": N_("Not configured"),
}
_SETTLED = {"confirmed": N_("confirmed"), "cancelled": N_("cancelled")}
# The names of preview facts and changes as the actions write them (English: they are also the keys
# stored in the audit data); translated here, where people read them.
_LABELS = (
    N_("namespace"),
    N_("replicas"),
    N_("revision"),
    N_("image"),
    N_("strategy"),
    N_("last restart"),
    N_("generation"),
    N_("change cause"),
    N_("revisions"),
    N_("pods"),
    N_("container"),
    N_("state"),
    N_("started at"),
    N_("restart count"),
    N_("restart policy"),
    N_("networks"),
    N_("build cache"),
    N_("containers"),
    N_("older than"),
    N_("volumes"),
    N_("volume"),
    N_("type"),
    N_("attached to"),
    N_("last modification"),
    N_("size"),
    N_("modification"),
    N_("addresses"),
    N_("IP set"),
    N_("how"),
    N_("network ACL"),
    N_("rule number"),
    N_("inbound rules"),
    N_("new secret"),
    N_("old key"),
    N_("access keys"),
    N_("secret"),
    N_("kept active"),
    N_("id"),
    N_("user"),
    N_("db"),
    N_("command"),
    N_("query"),
    N_("used memory"),
    N_("normal clients"),
    N_("connected clients"),
    N_("by address"),
    N_("kept"),
    N_("idle connections"),
    N_("running queries"),
    N_("idle connections closed"),
    N_("closed"),
    N_("connections now"),
    N_("most ever used"),
    N_("connections"),
    N_("images"),
    N_("dangling images"),
    N_("stopped containers"),
)


def who(ids: tuple[str, ...] | list[str]) -> str:
    """User ids as mentions, group ids as group mentions; "nobody" when empty."""
    parts = [f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in ids]
    return ", ".join(parts) if parts else _("nobody (set `roles.remediators`)")


def _code(text: str) -> str:
    return "`" + strict(text.replace("`", "ˋ")) + "`"


def _change_lines(changes: list[Change]) -> str:
    return "\n".join(f"• *{strict(_(c.what))}*: {_code(c.before)} → {_code(c.after)}" for c in changes)


def _facts(facts: list[tuple[str, str]]) -> list[Block]:
    if not facts:
        return []
    return [fields([(strict(_(name)), strict(clip(value, 1500)) or "-") for name, value in facts])]


def render_preview(proposal: Proposal, remediators: tuple[str, ...]) -> tuple[str, list[Block]]:
    preview, claims = proposal.preview, proposal.claims
    command = f"{COMMAND} {proposal.request.text}"
    changes = "; ".join(str(c) for c in preview.changes)
    text = "🛠️ " + _("{title}: {changes} — confirm or cancel", title=preview.title, changes=changes)
    blocks: list[Block] = [
        header(f"🛠️ {preview.title}"),
        section(clip("*" + _("Will change") + "*\n" + _change_lines(preview.changes), 2900)),
        *_facts(preview.facts),
    ]
    if preview.note:
        blocks.append(context(strict(preview.note)))
    blocks.append(
        context(
            _(
                "Requested by {requester} · {command} · the Confirm button works once, until {expires} · "
                "who may confirm: {who}",
                requester=f"<@{claims.requester}>",
                command=_code(command),
                expires=when(claims.expires),
                who=who(remediators),
            )
        )
    )
    blocks.append(
        actions(
            ACTIONS_BLOCK,
            button(_("Confirm"), CONFIRM_ACTION, proposal.token, style="danger"),
            button(_("Cancel"), CANCEL_ACTION, proposal.token),
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
    line = "⏳ " + _("Confirmed by {who} — applying…", who=f"<@{actor}>")
    return f"{title}: {line}", [*_kept(original), _status(line)]


def render_settled(decision: Decision, original: list[dict[str, Any]] | None) -> tuple[str, list[Block]]:
    requester = f"<@{decision.claims.requester}>" if decision.claims else _("someone")
    actor = f"<@{decision.actor}>"
    took = (
        " " + _("in {seconds} s", seconds=f"{decision.elapsed_ms / 1000:.1f}")
        if decision.elapsed_ms is not None
        else ""
    )
    if decision.status == "applied" and decision.applied is not None:
        applied = decision.applied
        line = "✅ " + _(
            "*Done*: {summary}. Confirmed by {actor}{took} (requested by {requester}).",
            summary=strict(applied.summary),
            actor=actor,
            took=took,
            requester=requester,
        )
        if applied.changes:
            line += "\n" + _change_lines(applied.changes)
        if applied.note:
            line += "\n" + strict(applied.note)
    elif decision.status == "failed":
        line = "❌ " + _(
            "*Failed* after confirmation by {actor}{took}: {reason}",
            actor=actor,
            took=took,
            reason=strict(decision.message),
        )
    elif decision.status == "cancelled":
        line = "🚫 " + _(
            "*Cancelled* by {actor}; nothing was changed (requested by {requester}).",
            actor=actor,
            requester=requester,
        )
    elif decision.code == "expired":
        line = "⌛ " + _(
            "*Expired*: nobody confirmed in time; nothing was changed. {reason}",
            reason=strict(decision.message),
        )
    else:
        line = "⛔ " + _(
            "*Refused* after confirmation by {actor}: {reason}", actor=actor, reason=strict(decision.message)
        )
    return clip(line, 3000), [*_kept(original), _status(line)]


def refusal_text(decision: Decision) -> str:
    """The ephemeral answer to a click that changed nothing: why, and who may."""
    title = _(_REFUSAL_TITLES.get(decision.code or "", N_("Refused")))
    text = f"⛔ *{title}*: {strict(decision.message)}"
    if decision.code == "already_used" and decision.settled_by:
        outcome, user = decision.settled_by
        text = f"⛔ *{title}*: " + _(
            "this confirmation was already used — {outcome} by {who}. It works once.",
            outcome=_(_SETTLED.get(outcome, outcome)),
            who=f"<@{user}>",
        )
    if decision.code == "not_allowed":
        requester = f"<@{decision.claims.requester}>" if decision.claims else _("the requester")
        text += "\n" + _(
            "Who may confirm: {who}. The requester ({requester}) may cancel.",
            who=who(decision.allowed_ids),
            requester=requester,
        )
    return text


def request_refusal_text(code: str | None, message: str, allowed: tuple[str, ...] = ()) -> str:
    title = _(_REFUSAL_TITLES.get(code or "", N_("Refused")))
    return f"⛔ *{title}*: {strict(message)} " + _("Nothing was changed.")


NOT_A_MEMBER = N_(
    "The bot is not in this channel, so only you can see this preview (and only a remediator can confirm "
    "it). Invite the bot with `/invite @warroom` so the team sees it."
)


def not_a_member_note() -> Block:
    """Under a preview only the requester sees: why, and how to let the team see it."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _(NOT_A_MEMBER)}]}
