"""Done when: declare → ack → notes → status → mitigated → resolve, then `/incident postmortem`
uploads a draft to the channel with the title, the severity, every timeline entry and the durations;
with `language: zh` the headings are Chinese. Through signed requests, Bolt, the DB and the emulator."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.i18n import use_language
from bot.incidents import timeline
from bot.postmortem import reminders
from bot.postmortem.render import from_slack
from tests.harness import Harness
from tests.postmortem.helpers import T0


def _run_incident(h: Harness, clock: ManualClock) -> tuple[int, str]:
    incident = h.declare("p1 Checkout API returns 502")
    room = incident.channel_id
    assert room is not None
    for minutes, text, user in (
        (4, "ack", h.bob),
        (2, "note Pool exhausted since deploy v2.3.1 | max_pool_size=500", h.bob),
        (2, "status Checkout fails for ~30% of users", h.carol),
        (7, "note Rolled back to v2.3.0", h.bob),
        (65, "mitigated", h.bob),
        (1, "action Alert on DB connections at 80% of max <@U0CAROL|carol>", h.bob),
        (69, "resolve", h.bob),
    ):
        clock.advance(timedelta(minutes=minutes))
        h.reply(h.command(text, user=user, channel=room))
        h.wait_idle()
    return incident.id, room


def _entries(h: Harness, incident_id: int, language: str = "en") -> list[str]:
    """The timeline as it stands (before the next draft), in the draft's language: what it must hold."""
    with h.runtime.session() as session, use_language(language):
        return [
            from_slack(timeline.event_text(event.kind, event.text, event.data))
            for event in timeline.events(session, incident_id)
        ]


def _every_entry_is_in(entries: list[str], body: str) -> None:
    assert len(entries) >= 9
    timeline_part = body.split("## Timeline (UTC)")[-1].split("## 时间线 (UTC)")[-1]
    for text in entries:
        assert text.replace("|", r"\|") in timeline_part or text in timeline_part, text


def test_postmortem_after_a_full_incident(sqlite_url: str) -> None:
    clock = ManualClock(T0)
    with Harness(sqlite_url, clock=clock) as h:
        incident_id, room = _run_incident(h, clock)
        # resolve drafted and uploaded v1 by itself
        assert len(h.emulator.uploaded_files(room)) == 1
        clock.advance(timedelta(minutes=5))
        entries = _entries(h, incident_id)
        answer = h.reply(h.command("postmortem", user=h.alice, channel=room))
        h.wait_idle()
        assert "Postmortem draft v2 is uploaded" in answer

        files = h.emulator.uploaded_files(room)
        assert [f.name for f in files] == [
            f"inc-{incident_id}-postmortem-v1.md",
            f"inc-{incident_id}-postmortem-v2.md",
        ]
        body = files[-1].content.decode("utf-8")
        assert f"# INC-{incident_id} postmortem: Checkout API returns 502" in body
        assert "| Severity | P1 — 严重 major (respond within 1h) |" in body
        assert "| Status | Resolved |" in body
        assert f"| Commander | @{h.bob} |" in body
        assert "| Duration | 2h 30m (declared → resolved) |" in body
        assert "| Time to acknowledge | 4m | 1h | ✅ met |" in body
        assert "| Time to mitigate | 1h 20m | 1h | ❌ missed |" in body
        assert "| Time to resolve | 2h 30m | 1h | ❌ missed |" in body
        assert "Checkout fails for ~30% of users" in body.split("## Impact")[1].split("## Timeline")[0]
        assert "| 1 | Alert on DB connections at 80% of max | @U0CAROL | open |" in body
        _every_entry_is_in(entries, body)
        assert "Postmortem draft v1 uploaded" in body  # the first draft is on the timeline too

        # the channel shows each file with its short summary
        comments = [m["text"] for m in h.emulator.messages(room) if m.get("files")]
        assert len(comments) == 2 and "*Postmortem draft v2*" in comments[-1]
        assert "acknowledged in 4m ✅" in comments[-1]

        # the review: reminded after 3 days, once, then done
        clock.advance(timedelta(days=3))
        assert reminders.tick(h.runtime) == 1
        assert reminders.tick(h.runtime) == 0
        dms = h.emulator.dms(h.bob)
        assert any("postmortem review" in m.get("text", "") for m in dms)
        assert "is done" in h.reply(h.command("review done", user=h.bob, channel=room))


def test_chinese_headings_with_language_zh(sqlite_url: str) -> None:
    clock = ManualClock(T0)
    with Harness(sqlite_url, policy=Policy(language="zh"), clock=clock) as h:
        incident_id, room = _run_incident(h, clock)
        entries = _entries(h, incident_id, "zh")
        h.reply(h.command("postmortem", channel=room))
        h.wait_idle()
        body = h.emulator.uploaded_files(room)[-1].content.decode("utf-8")
        for heading in (
            "# INC-",
            "故障复盘",
            "## 概要",
            "## 关键时间 (UTC)",
            "## 响应指标",
            "## 时间线 (UTC)",
            "## 根因报告（5 个为什么）",
            "## 改进措施",
            "## 预防方案",
        ):
            assert heading in body
        assert "| 等级 | P1 — 严重 major（响应时间 1h） |" in body
        assert "| 确认用时 | 4m | 1h | ✅ 达标 |" in body
        _every_entry_is_in(entries, body)
        # Warroom's own rows (stored in English) are told in Chinese; what people typed stays as typed
        timeline_part = body.split("## 时间线 (UTC)")[-1].split("## 诊断记录")[0]
        assert "宣布 P1：Checkout API returns 502" in timeline_part, timeline_part
        assert "行动项 1：Alert on DB connections at 80% of max" in timeline_part, timeline_part
        assert "Declared P1" not in body and "Action item 1" not in body
        comments = [m["text"] for m in h.emulator.messages(room) if m.get("files")]
        assert "故障复盘草稿" in comments[-1]


def test_user_errors_say_what_to_type_and_change_nothing(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:  # one harness for all: each costs seconds to stop
        incident = h.declare()
        room = incident.channel_id
        for text, expected in (
            ("postmortem fr", "`/incident postmortem zh`"),
            ("action", "No action items yet"),
            ("action done 3", "There is no action item 3"),
            ("action <@U0BOB|bob>", "`/incident action Alert on DB connections at 80% of max @alice`"),
            ("review maybe", "`/incident review done`"),
            ("review done", "the review follows the resolve"),
        ):
            assert expected in h.reply(h.command(text, channel=room)), text
        assert "works inside an incident channel" in h.reply(h.command("postmortem", channel=h.general))
        assert h.emulator.uploaded_files(room) == []
        with h.runtime.session() as session:
            kinds = [e.kind for e in timeline.events(session, incident.id)]
        assert not {"postmortem", "review", "action_item"} & set(kinds)
