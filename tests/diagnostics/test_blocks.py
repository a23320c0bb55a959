"""Rendering within Slack's limits: findings first, then detail; long output becomes a file."""

from __future__ import annotations

import json

from bot.diagnostics.base import CheckResult, Finding, Level, Outcome
from bot.slack.blocks.diagnostics import render_result, render_running


def _result(
    detail: str, findings: list[Finding] | None = None, outcome: Outcome = Outcome.WARN
) -> CheckResult:
    return CheckResult(
        adapter="mysql",
        target="orders",
        check="processlist",
        args=[],
        outcome=outcome,
        findings=findings
        or [Finding(Level.WARN, "Query 7 running 412 s", "KILL 7"), Finding(Level.OK, "fine")],
        detail=detail,
        elapsed_ms=12.3,
    )


def _texts(blocks: list[dict]) -> list[str]:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", [])]
    return out


def _assert_within_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in _texts(blocks))
    assert sum(len(t) for t in _texts(blocks)) <= 12000
    assert len(json.dumps(blocks)) < 16000


def test_findings_come_first_then_the_detail() -> None:
    text, blocks = render_result(_result("id  time\n7   412"), actor="U0ALICE")
    texts = _texts(blocks)
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "⚠️ /diag mysql orders processlist"
    assert texts[1].startswith("⚠️ Query 7 running 412 s\n        ↳ _KILL 7_")
    assert "✅ fine" in texts[1]
    assert texts[2] == "```id  time\n7   412```"
    assert texts[-1] == "warn · 12 ms · run by <@U0ALICE>"
    assert text.startswith("⚠️ /diag mysql orders processlist: Query 7 running 412 s")
    _assert_within_limits(blocks)


def test_long_output_is_cut_to_a_preview_and_attached_as_a_file() -> None:
    detail = "\n".join(f"{i:05d} SELECT * FROM orders WHERE id = {i}" for i in range(3000))
    rendered = render_result(_result(detail))
    _assert_within_limits(rendered.blocks)
    assert rendered.file is not None and rendered.file.content.endswith(detail + "\n")
    assert rendered.file.content.startswith("[warn] Query 7 running 412 s  → KILL 7")
    assert rendered.file.filename == "diag-mysql-orders-processlist.txt"
    assert "the full 3000 lines are attached" in _texts(rendered.blocks)[-1]


def test_medium_output_is_split_across_sections_without_a_file() -> None:
    detail = "\n".join("x" * 100 for _ in range(70))  # ~7,000 characters: three sections
    rendered = render_result(_result(detail))
    _assert_within_limits(rendered.blocks)
    assert rendered.file is None
    code = [t for t in _texts(rendered.blocks) if t.startswith("```")]
    assert len(code) == 3 and sum(t.count("x" * 100) for t in code) == 70


def test_many_findings_stay_within_limits() -> None:
    findings = [Finding(Level.CRIT, f"problem {i} " + "y" * 200, "fix it") for i in range(200)]
    rendered = render_result(_result("d", findings, Outcome.CRIT))
    _assert_within_limits(rendered.blocks)
    assert "more findings, in the attached file" in "".join(_texts(rendered.blocks))
    assert rendered.file is not None and rendered.file.content.count("problem ") == 200


def test_output_cannot_mention_or_break_out_of_code_blocks() -> None:
    detail = "<!channel> hello\n```\n*bold*"
    texts = _texts(render_result(_result(detail, [Finding(Level.OK, "<@U123> & <!here>")])).blocks)
    assert "<!channel>" not in "".join(texts) and "&lt;!channel&gt;" in texts[2]
    assert texts[2].count("```") == 2
    assert texts[1] == "✅ &lt;@U123&gt; &amp; &lt;!here&gt;"


def test_running_placeholder() -> None:
    text, blocks = render_running("mysql orders connections")
    assert text == "⏳ Running `/diag mysql orders connections`…"
    assert blocks[0]["text"]["text"] == text
