"""What the chat and the pages did not cover, in Chinese: a set-up problem (stored in English with
Slack's error inside) told to a zh declarer and on the zh timeline; the zh postmortem's timeline."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

from bot.config.policy import Policy
from bot.i18n import use_language
from bot.incidents import timeline
from tests.harness import Harness


def test_a_channel_that_cannot_be_made_is_told_in_chinese(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(language="zh")) as h:
        h.emulator.users[h.alice].locale = "zh-CN"
        h.emulator.fail("conversations.create", error="restricted_action", times=None)
        reply = h.reply(h.command("p2 结算接口返回 502", user=h.alice), timeout=15)
        assert "无法创建频道：restricted_action" in reply, reply
        assert "Could not create the channel" not in reply
        incident = h.latest_incident()
        assert incident is not None
        with h.runtime.session() as session:
            [row] = timeline.events(session, incident.id, {"setup_error"})
            # stored once, in English (logs, exports); shown in the reader's language
            assert row.text == "Could not create the channel: restricted_action"
            with use_language("zh"):
                assert timeline.event_text(row.kind, row.text, row.data) == "无法创建频道：restricted_action"


def test_an_english_reader_of_a_chinese_workspace_reads_it_in_english(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy(language="zh")) as h:
        h.emulator.users[h.bob].locale = "en-US"
        h.emulator.fail("conversations.create", error="restricted_action", times=None)
        reply = h.reply(h.command("p2 Checkout returns 502", user=h.bob), timeout=15)
        assert "Could not create the channel: restricted_action" in reply, reply


def test_the_zh_report_chart_never_draws_boxes_for_missing_glyphs(sqlite_url: str) -> None:
    """Chinese labels with a font that has them; English labels when no installed font has them."""
    from sqlalchemy.orm import Session

    from bot.db.engine import create_db_engine
    from bot.reports import figures, render

    engine = create_db_engine(sqlite_url)
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with Session(engine) as session:
        report = figures.build(session, Policy(language="zh"), now - timedelta(days=7), now, now)
    engine.dispose()
    with warnings.catch_warnings(), use_language("zh"):
        warnings.filterwarnings("error", message=".*missing from font")
        png = render.chart_png(report)
    assert png.startswith(b"\x89PNG")
    if render.cjk_font() is None:  # this machine: no CJK font, so the labels fell back to English
        with warnings.catch_warnings(record=True) as caught, use_language("zh"):
            warnings.simplefilter("always")
            render._chart(report, None)  # what it would have drawn without the fallback
        assert any("missing from font" in str(w.message) for w in caught)
