"""Block Kit for `/diag`: a check's result, a triage card, the "running…" placeholder.

Findings first (what is wrong and the guide's fix), then the detail in code blocks. Everything
stays inside Slack's limits — 3,000 characters a section, 50 blocks, about 12,000 characters a
message — and output that does not fit is cut to a preview with the full text returned as a
file to upload. Text arrives masked and ANSI-free from the runner; here it is only escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.diagnostics.base import CheckResult, Finding, Level, Outcome
from bot.diagnostics.triage import TriageResult
from bot.i18n import _, ngettext
from bot.slack.blocks.common import MAX_BLOCKS, SECTION_LIMIT, Block, clip, context, header, section

MESSAGE_LIMIT = 11_000  # Slack's practical limit is ~12k; leave room for the JSON around the text
FINDINGS_LIMIT = 6_000  # findings share the message with the detail preview
CODE_CHUNK = SECTION_LIMIT - 20  # room for the ``` fences
PREVIEW_CHARS = 2_500
OUTCOME_ICONS = {
    Outcome.OK: "✅",
    Outcome.WARN: "⚠️",
    Outcome.CRIT: "❌",
    Outcome.ERROR: "❌",
    Outcome.TIMEOUT: "⏱️",
    Outcome.REFUSED: "⛔",
}


@dataclass(frozen=True)
class FileUpload:
    filename: str
    title: str
    content: str
    comment: str


@dataclass(frozen=True)
class Rendered:
    text: str  # notification and fallback text
    blocks: list[Block]
    file: FileUpload | None = None  # the full output, when the message only holds a preview

    def __iter__(self) -> Iterator[Any]:
        # `text, blocks = render_result(...)` reads naturally at call sites that ignore the file.
        return iter((self.text, self.blocks))


def escape(text: str) -> str:
    """Strict escaping: engine output must not mention anyone, not even a user (unlike common.escape)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    # A ``` inside the output would close the block early; a zero-width joiner keeps it visible.
    return escape(text.replace("```", "`\u200d``"))


def finding_lines(findings: list[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        line = f"{finding.level.icon} {escape(finding.message)}"
        if finding.fix and finding.level is not Level.OK:
            line += f"\n        ↳ _{escape(finding.fix)}_"
        lines.append(line)
    return lines


def finding_sections(findings: list[Finding]) -> tuple[list[Block], int]:
    """Sections of findings within FINDINGS_LIMIT, problems first when some must be left out; (blocks, left out)."""
    lines = finding_lines(findings)
    if sum(len(line) + 1 for line in lines) > FINDINGS_LIMIT:
        ranked = sorted(findings, key=lambda f: -f.level.rank)
        lines, used = [], 0
        for line in finding_lines(ranked):
            line = clip(line, 500)
            if used + len(line) + 1 > FINDINGS_LIMIT - 100:
                break
            lines.append(line)
            used += len(line) + 1
    left_out = len(findings) - len(lines)
    if left_out:
        lines.append(
            "_"
            + ngettext(
                "…and {n} more finding, in the attached file",
                "…and {n} more findings, in the attached file",
                left_out,
            )
            + "_"
        )
    return [section(chunk) for chunk in pack(lines)], left_out


def pack(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Lines joined into texts of at most `limit` characters, splitting only between lines."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _size(blocks: list[Block]) -> int:
    total = 0
    for block in blocks:
        text = block.get("text") or {}
        total += len(text.get("text", ""))
        total += sum(len(e.get("text", "")) for e in block.get("elements", []))
    return total


def _detail_blocks(detail: str, room_chars: int, room_blocks: int) -> tuple[list[Block], bool]:
    """Code-block sections for the detail; True when it had to be cut (the caller attaches a file)."""
    chunks = pack(_code(detail).splitlines() or [""], CODE_CHUNK)
    blocks: list[Block] = []
    used = 0
    for chunk in chunks:
        if len(blocks) + 1 > room_blocks or used + len(chunk) > room_chars:
            break
        blocks.append(section(f"```{chunk}```"))
        used += len(chunk)
    if len(blocks) == len(chunks):
        return blocks, False
    preview = pack(_code(detail).splitlines(), PREVIEW_CHARS)[0]
    return [section(f"```{preview}```")], True


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")[:60] or "diag"


def render_result(result: CheckResult, actor: str | None = None) -> Rendered:
    icon = OUTCOME_ICONS[result.outcome]
    title = f"{icon} /diag {result.command}"
    findings, left_out = finding_sections(result.findings)
    blocks: list[Block] = [header(title), *findings]
    meta = _("{outcome} · {ms} ms", outcome=_(result.outcome.label), ms=f"{result.elapsed_ms:.0f}")
    cut = False
    if result.detail.strip():
        room_chars = MESSAGE_LIMIT - _size(blocks) - 400
        detail, cut = _detail_blocks(result.detail, room_chars, MAX_BLOCKS - len(blocks) - 2)
        blocks += detail
        if cut:
            lines = result.detail.count("\n") + 1
            meta += " · " + _("detail cut to a preview; the full {lines} lines are attached", lines=lines)
    file = None
    if cut or left_out:
        everything = "\n".join(
            f"[{f.level}] {f.message}" + (f"  → {f.fix}" if f.fix else "") for f in result.findings
        )
        file = FileUpload(
            filename=f"diag-{_slug(result.command)}.txt",
            title=f"/diag {result.command}",
            content=f"{everything}\n\n{result.detail}".rstrip() + "\n",
            comment=_("Full output of `/diag {command}`", command=result.command),
        )
    meta = escape(meta) + (" · " + _("run by {who}", who=f"<@{actor}>") if actor else "")
    blocks.append(context(meta))
    return Rendered(_fallback(title, result.findings), blocks, file)


def render_triage(result: TriageResult, actor: str | None = None) -> Rendered:
    icon = OUTCOME_ICONS[result.outcome]
    title = f"{icon} " + _(
        "Triage {service}: {outcome}", service=result.service, outcome=_(result.outcome.label)
    )
    blocks: list[Block] = [header(f"🩺 {title}")]
    for item in result.steps[: MAX_BLOCKS - 4]:
        step_icon = OUTCOME_ICONS[item.result.outcome]
        head = f"*{step_icon} {escape(_(item.step.label))}*  `/diag {escape(item.step.command)}`"
        shown = [f for f in item.result.findings if f.level is not Level.OK] or item.result.findings[:1]
        blocks.append(section(clip("\n".join([head, *finding_lines(shown)]), SECTION_LIMIT)))
    if _size(blocks) > MESSAGE_LIMIT:  # dozens of long findings: keep the heads, the file has the rest
        blocks = [blocks[0], *[section(clip(str(b["text"]["text"]), 600)) for b in blocks[1:]]]
    meta = ngettext(
        "{n} check in parallel · {ms} ms",
        "{n} checks in parallel · {ms} ms",
        len(result.steps),
        ms=f"{result.elapsed_ms:.0f}",
    )
    if result.skipped:
        meta += " · " + _("not configured: {what}", what="; ".join(result.skipped))
    blocks.append(context(escape(meta) + (" · " + _("run by {who}", who=f"<@{actor}>") if actor else "")))
    file = None
    if result.detail.strip():
        file = FileUpload(
            filename=f"triage-{_slug(result.service)}.txt",
            title=_("Triage {service}: details", service=result.service),
            content=result.detail,
            comment=_("Details of `/diag triage {service}`", service=result.service),
        )
    return Rendered(_fallback(title, result.findings), blocks, file)


def render(result: CheckResult | TriageResult, actor: str | None = None) -> Rendered:
    if isinstance(result, TriageResult):
        return render_triage(result, actor)
    return render_result(result, actor)


def render_running(command: str) -> Rendered:
    text = "⏳ " + _("Running `/diag {command}`…", command=escape(command))
    return Rendered(text, [section(text)])


def render_message(text: str) -> Rendered:
    return Rendered(text, [section(escape(text))])


def _fallback(title: str, findings: list[Finding]) -> str:
    problems = [f for f in findings if f.level is not Level.OK] or findings[:1]
    return clip(title + (": " + "; ".join(f.message for f in problems[:3]) if problems else ""), 3000)


def note_blocks(text: str) -> list[Block]:
    """A small grey note under a result (plain text, escaped)."""
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}]
