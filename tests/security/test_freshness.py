"""Contact freshness and the policy review reminder: rows on the database timer, claimed once, posted to
announce_channel; and the same contact check in `warroom doctor` — all against the Slack emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.doctor_contacts import check_contacts
from bot.doctor_policy import Status
from bot.security import periodic
from bot.security.models import PeriodicJob, PolicyReview
from tests.harness import Harness

POLICY = {
    "announce_channel": "C0ANNOUNCE",
    "escalation": {"tiers": [
        {"name": "tier1", "targets": ["rotation:ops"], "timeout": "15m"},
        {"name": "tier2", "targets": ["U0NOBODY", "S0EMPTY"], "timeout": "30m"},
    ]},
    "escalation_policies": {"security": {"tiers": [{"name": "sec1", "targets": ["S0SEC", "U0CAROL"], "timeout": "10m"}]}},
    "rotations": {"ops": {"users": ["U0ALICE", "U0GONE"]}},
    "contacts": {"U0ALICE": {"sms": "+8613800000001"}},
}  # fmt: skip


def _posts(h: Harness) -> list[str]:
    return [str(m.get("text", "")) for m in h.emulator.messages("C0ANNOUNCE")]


def _setup(h: Harness) -> None:
    h.emulator.add_channel("incidents", id="C0ANNOUNCE")
    h.emulator.add_user("gone", id="U0GONE").deleted = True
    h.emulator.add_usergroup("empty", [], id="S0EMPTY")
    h.emulator.add_usergroup("security", [h.carol], id="S0SEC")


def test_weekly_contact_check_is_claimed_once_and_names_every_problem(db_url: str) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    with Harness(db_url, policy=Policy.model_validate(POLICY), clock=clock) as h:
        _setup(h)
        periodic.tick(h.runtime)  # first tick: the rows, due a period later; nothing posted yet
        assert _posts(h) == []
        with h.runtime.session() as s:
            due = {j.job: j.due_at for j in s.scalars(select(PeriodicJob))}
        assert due == {
            "contacts": clock.now() + timedelta(weeks=1),
            "policy_review": clock.now() + timedelta(days=91),
        }

        clock.advance(timedelta(weeks=1, seconds=1))
        replicas = [threading.Thread(target=periodic.tick, args=(h.runtime,)) for _ in range(4)]
        for t in replicas:
            t.start()
        for t in replicas:
            t.join()
        posts = h.wait_until(lambda: _posts(h) or None)
        h.wait_idle()
        assert len(_posts(h)) == 1, _posts(h)  # four replicas, one post
        text = posts[0]
        assert "5 problem(s) among 6 people and groups" in text
        assert "U0GONE" in text and "deactivated in Slack" in text and "rotation ops" in text
        assert "U0NOBODY" in text and "no such user in Slack" in text
        assert "S0EMPTY" in text and "the user group is empty" in text
        assert "user group S0EMPTY" in text and "&lt;" not in text
        assert (
            "no SMS under contacts" in text
            and "contacts.U0GONE.sms" in text
            and "contacts.U0NOBODY.sms" in text
        )
        assert (
            "U0CAROL" not in text
            and "S0SEC" not in text
            and "U0ALICE" not in text.split("contacts.")[0].split("•")[1]
        )

        periodic.tick(h.runtime)  # not due again for a week
        assert len(_posts(h)) == 1


def test_quarterly_review_reminder_says_what_changed(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    with Harness(
        sqlite_url, policy=Policy.model_validate({"announce_channel": "C0ANNOUNCE"}), clock=clock
    ) as h:
        h.emulator.add_channel("incidents", id="C0ANNOUNCE")
        periodic.tick(h.runtime)
        h.declare("p2 Search is slow")
        h.reply(h.command("drill p3 Failover practice"), timeout=15)
        h.wait_idle()
        clock.advance(timedelta(days=91, seconds=1))
        periodic.tick(h.runtime)
        review = h.wait_until(lambda: [p for p in _posts(h) if "review the incident policy" in p] or None)
        assert len(review) == 1
        assert (
            "Since the last review (2026-12-03): 1 incident(s), 1 drill(s); the policy file did not change"
            in review[0]
        )

        h.runtime.policy = Policy.model_validate({"announce_channel": "C0ANNOUNCE", "language": "en",
                                                   "reviews": {"policy_every": "30d"}})  # fmt: skip
        clock.advance(timedelta(days=91))
        periodic.tick(h.runtime)
        h.wait_until(lambda: len([p for p in _posts(h) if "review the incident policy" in p]) == 2 or None)
        latest = [p for p in _posts(h) if "review the incident policy" in p][-1]
        assert "0 incident(s), 0 drill(s); the policy file changed" in latest
        with h.runtime.session() as s:
            hashes = [r.policy_hash for r in s.scalars(select(PolicyReview).order_by(PolicyReview.id))]
        assert len(hashes) == 3 and hashes[0] == hashes[1] != hashes[2]


def test_doctor_checks_the_same_contacts(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=Policy.model_validate(POLICY)) as h:
        _setup(h)
        settings = Settings(slack_bot_token=h.emulator.bot_token, slack_api_url=h.emulator.api_url,
                            database_url=sqlite_url)  # fmt: skip
        rows = check_contacts(settings, Policy.model_validate(POLICY), timeout=5)
        assert [r.status for r in rows] == [Status.FAIL] * 5
        assert any("U0GONE" in r.detail and "deactivated" in r.detail for r in rows)
        good = {"escalation": {"tiers": [{"name": "t1", "targets": ["U0CAROL", "S0SEC"], "timeout": "5m"}]}}
        rows = check_contacts(settings, Policy.model_validate(good), timeout=5)
        assert [(r.status, "2 people and groups" in r.detail) for r in rows] == [(Status.OK, True)]


def test_doctor_post_puts_the_findings_in_announce_channel(sqlite_url: str, tmp_path) -> None:
    with Harness(sqlite_url, policy=Policy.model_validate(POLICY)) as h:
        _setup(h)
        config = tmp_path / "policy.yml"
        config.write_text(json.dumps(POLICY))  # JSON is YAML
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": h.emulator.bot_token,
            "SLACK_API_URL": h.emulator.api_url,
            "DATABASE_URL": sqlite_url,
            "WARROOM_CONFIG": str(config),
        }
        printed = subprocess.run(  # the real CLI; fixed arguments
            [sys.executable, "-m", "bot.cli", "doctor", "--post", "--timeout", "5"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert printed.returncode == 1, printed.stdout + printed.stderr  # the problems are failures
        assert "contacts posted" in printed.stdout and "C0ANNOUNCE" in printed.stdout
        [post] = _posts(h)
        assert "Contact check: 5 problem(s)" in post and "<@U0GONE>" in post
        assert "<!channel>" not in post

        # Without --post doctor only prints.
        again = subprocess.run(
            [sys.executable, "-m", "bot.cli", "doctor", "--timeout", "5"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "contacts posted" not in again.stdout and len(_posts(h)) == 1

        # Slack refusing the post is a problem doctor names, with its fix; nothing is posted.
        h.emulator.fail("chat.postMessage", error="not_in_channel", times=None)
        refused = subprocess.run(
            [sys.executable, "-m", "bot.cli", "doctor", "--post", "--timeout", "5"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (
            "Slack refused the post: not_in_channel" in refused.stdout and "invite the bot" in refused.stdout
        )
        assert len(_posts(h)) == 1
