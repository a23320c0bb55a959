"""The lifecycle declare → ack → note → status → resolve → postmortem through the Slack emulator in
both languages: what was posted (rooms, ephemeral answers, DMs) matches a golden transcript, and with
`language: zh` no English sentence leaks into it. A person's Slack locale overrides the workspace's
language for what only they see; room messages stay in the workspace's.

Regenerate the golden files after an intended change: `UPDATE_GOLDEN=1 pytest tests/i18n`.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness
from tests.postmortem.helpers import T0

GOLDEN = Path(__file__).parent / "golden"

# (command as typed, who types it). zh types the Chinese aliases and Chinese text.
SCRIPT = {
    "en": [
        ("p1 Checkout API returns 502", "alice"),
        ("ack", "bob"),
        ("note Rolled back to v2.3.0", "bob"),
        ("status Checkout recovering, error rate 2%", "carol"),
        ("resolve", "bob"),
        ("postmortem", "alice"),
    ],
    "zh": [
        ("p1 结算接口返回 502", "alice"),
        ("确认", "bob"),
        ("备注 已回滚到 v2.3.0", "bob"),
        ("状态 结算恢复中，错误率 2%", "carol"),
        ("解决", "bob"),
        ("复盘", "alice"),
    ],
}


def _normalize(text: str, rooms: dict[str, str]) -> str:
    for channel_id, name in rooms.items():
        text = text.replace(channel_id, name)
    return re.sub(r"\b\d{10}\.\d{6}\b", "<ts>", text)


def _transcript(h: Harness, language: str, room: str, replies: list[tuple[str, str, str]]) -> str:
    """Everything posted, as text: the room, each ephemeral answer, each person's DMs."""
    rooms = {room: "#ROOM"}
    out = [f"# lifecycle, language: {language}", "", "## room"]
    posts = []
    for message in h.emulator.messages(room):
        body = blocks_to_text(message.get("blocks"), message.get("text"))
        files = " ".join(f"[file {f.get('name')}]" for f in message.get("files") or [])
        posts.append([f"--- {files}".rstrip(), body])
    posts[:2] = sorted(posts[:2])  # the summary and the checklist are posted side by side: either first
    for post in posts:
        out += post
    out += ["", "## answers (ephemeral)"]
    for command, who, answer in replies:
        out += [f"--- /incident {command} ({who})", answer]
    for name in ("alice", "bob", "carol"):
        dms = h.emulator.dms(getattr(h, name))
        if dms:
            out += ["", f"## DMs to {name}"]
            for message in dms:
                out += ["---", blocks_to_text(message.get("blocks"), message.get("text"))]
    return _normalize("\n".join(out) + "\n", rooms)


def _run(db_url: str, language: str, locale: str) -> tuple[str, Harness]:
    clock = ManualClock(T0)
    h = Harness(db_url, policy=Policy(language=language), clock=clock)
    for user in (h.alice, h.bob, h.carol):
        h.emulator.users[user].locale = locale
    replies = []
    room = ""
    for command, who in SCRIPT[language]:
        clock.advance(timedelta(minutes=3))
        answer = h.reply(h.command(command, user=getattr(h, who), channel=room or None), timeout=15)
        h.wait_idle()
        if not room:
            incident = h.latest_incident()
            assert incident is not None and incident.channel_id, answer
            room = incident.channel_id
        replies.append((command, who, answer))
    return _transcript(h, language, room, replies), h


def _check_golden(name: str, transcript: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(transcript)
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"{path} did not exist; written now — review it and commit it")
    assert transcript == path.read_text(), f"differs from {path} (UPDATE_GOLDEN=1 to accept)"


# What is not a sentence: code spans, mentions and channels, links, ids, file names, the command words.
_NOT_PROSE = [
    re.compile(r"`[^`]*`"),
    re.compile(r"<[@#!][^>]*>"),
    re.compile(r"<https?://[^>]*>|https?://\S+"),
    re.compile(r"\[file [^\]]*\]"),
    re.compile(r"\bINC-\d+\b|\binc-[\w-]+"),
    re.compile(r"^#.*$|^--- .*$", re.M),  # the transcript's own headings
]
_ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z']*(?:[ ,.:;!?/()-]+[A-Za-z][A-Za-z']*){2,}")


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words outside code, mentions, links and ids."""
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    return _ENGLISH_RUN.findall(text)


def test_the_leak_check_finds_a_planted_english_sentence() -> None:
    assert english_runs("✅ 已确认 INC-1。Escalation has stopped now.") == ["Escalation has stopped now"]
    assert english_runs("{who} 已确认 `/incident review done` <@U0BOB> INC-12 <#C1> P1 · 严重") == []
    assert english_runs("见 https://grafana.example/d/abc?from=now-1h to now") == []


def test_lifecycle_in_english_matches_the_golden_transcript(sqlite_url: str) -> None:
    transcript, h = _run(sqlite_url, "en", "en-US")
    try:
        _check_golden("lifecycle.en.txt", transcript)
        assert "acknowledged INC-1" in transcript and "Postmortem draft" in transcript
    finally:
        h.close()


def test_lifecycle_in_chinese_matches_the_golden_transcript_and_leaks_no_english(sqlite_url: str) -> None:
    transcript, h = _run(sqlite_url, "zh", "zh-CN")
    try:
        _check_golden("lifecycle.zh.txt", transcript)
        assert "已确认 INC-1" in transcript and "复盘" in transcript
        leaks = english_runs(transcript)
        assert not leaks, f"English in the zh lifecycle: {leaks}"
    finally:
        h.close()


def test_a_persons_locale_decides_what_only_they_see(sqlite_url: str) -> None:
    """Workspace zh, Bob's Slack in English: Bob's answers are English, the room stays Chinese."""
    clock = ManualClock(T0)
    with Harness(sqlite_url, policy=Policy(language="zh"), clock=clock) as h:
        h.emulator.users[h.alice].locale = "zh-CN"
        h.emulator.users[h.bob].locale = "en-US"
        h.reply(h.command("p1 结算接口返回 502", user=h.alice), timeout=15)
        h.wait_idle()
        incident = h.latest_incident()
        assert incident is not None and incident.channel_id
        answer = h.reply(h.command("ack", user=h.bob, channel=incident.channel_id))
        h.wait_idle()
        assert answer == "INC-1 is now acknowledged.", answer
        room = " ".join(m.get("text", "") for m in h.emulator.messages(incident.channel_id))
        assert "<@U0BOB> 已确认 INC-1。" in room and "acknowledged INC-1" not in room
        help_answer = h.reply(h.command("帮助", user=h.alice, channel=incident.channel_id))
        assert "宣布事件并开启作战室" in help_answer or "Warroom 命令" in help_answer, help_answer
        # one users.info per person, however many commands (the cache), each asking for the locale
        asks = [c for c in h.emulator.calls if c.method == "users.info"]
        assert asks and all(str(c.params.get("include_locale")).lower() in ("true", "1") for c in asks)
        assert len([c for c in asks if c.params.get("user") == h.bob]) == 1
