"""Slack 429 and 5xx while paging: retried, never lost, never doubled."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import delivery, engine, progress
from bot.escalation.channels import deliver
from bot.escalation.ladder import advance_ladders
from tests.escalation.helpers import (
    GUIDE_POLICY,
    ONCALL,
    close,
    declare,
    guide_policy,
    make_runtime,
    outbox,
    pages,
    timeline,
)


def test_rate_limited_page_is_retried_after_retry_after_and_sent_once(emu, pg_url) -> None:
    runtime = make_runtime(emu, pg_url, guide_policy(), ManualClock())
    try:
        incident = declare(runtime)
        emu.fail("chat.postMessage", 429, retry_after=1, times=2)
        engine.run_due(runtime)
        assert len(pages(emu, ONCALL, incident.id)) == 1
        limited = [c for c in emu.calls_to("chat.postMessage") if c.status == 429]
        assert len(limited) == 2  # both refusals were waited out (Retry-After), then it went through
        [row] = [r for r in outbox(runtime, incident.id) if r.kind == "page"]
        assert (row.status, row.attempts) == ("sent", 1)
    finally:
        close(runtime)


def test_server_errors_are_retried(emu, pg_url) -> None:
    runtime = make_runtime(emu, pg_url, guide_policy(), ManualClock())
    try:
        incident = declare(runtime)
        emu.fail("chat.postMessage", 503, times=2)
        engine.run_due(runtime)
        assert len(pages(emu, ONCALL, incident.id)) == 1
        assert [c.status for c in emu.calls_to("chat.postMessage")][-3:] == [503, 503, 200]
    finally:
        close(runtime)


def test_a_failure_beyond_the_client_retries_goes_back_to_the_outbox_with_backoff(emu, db_url) -> None:
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        incident = declare(runtime)
        emu.fail("chat.postMessage", error="internal_error", times=2)
        engine.run_due(runtime)
        [row] = [r for r in outbox(runtime, incident.id) if r.kind == "page"]
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == clock.now() + timedelta(seconds=2)
        assert pages(emu, ONCALL) == []

        engine.run_due(runtime)  # not yet: backing off
        assert pages(emu, ONCALL) == []
        clock.advance(2)
        engine.run_due(runtime)  # second failure: 4 s more
        clock.advance(4)
        engine.run_due(runtime)
        engine.run_due(runtime)
        assert len(pages(emu, ONCALL, incident.id)) == 1
        [row] = [r for r in outbox(runtime, incident.id) if r.kind == "page"]
        assert (row.status, row.attempts, row.error) == ("sent", 3, None)
        assert row.deliveries["slack"]["ok"] is True
        failed = [e.text for e in timeline(runtime, incident.id, "page_failed")]
        assert failed == [
            f"Page to <@{ONCALL}> (tier1) failed: Slack DM (internal_error); attempt 1 of 8, retrying in 2s",
            f"Page to <@{ONCALL}> (tier1) failed: Slack DM (internal_error); attempt 2 of 8, retrying in 4s",
        ]
        assert [e.text for e in timeline(runtime, incident.id, "page")] == [
            f"Paged <@{ONCALL}> (tier1) via Slack DM"
        ]
    finally:
        close(runtime)


def test_a_person_slack_does_not_know_fails_at_once_and_says_so(emu, db_url) -> None:
    policy = load_policy_text(GUIDE_POLICY.replace(f"[{ONCALL}]", f"[{ONCALL}, U0GONE]"))
    runtime = make_runtime(emu, db_url, policy, ManualClock())
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        rows = {r.target: r for r in outbox(runtime, incident.id) if r.kind == "page"}
        assert rows[ONCALL].status == "sent" and len(pages(emu, ONCALL)) == 1
        assert (rows["U0GONE"].status, rows["U0GONE"].attempts) == ("failed", 1)
        [event] = timeline(runtime, incident.id, "page_failed")
        assert "U0GONE" in event.text and "user_not_found" in event.text and "giving up" in event.text
    finally:
        close(runtime)


def test_a_dm_sent_by_a_process_that_died_before_recording_is_not_sent_again(emu, db_url) -> None:
    """The crash window between the DM and `record`: the DM's success is saved on its own
    (bot.escalation.progress), so the replica that takes the row after its lease skips the DM."""
    clock = ManualClock()
    dead = make_runtime(emu, db_url, guide_policy(), clock)
    other = make_runtime(emu, db_url, guide_policy(), clock)
    try:
        incident = declare(dead)
        advance_ladders(dead)
        claims, _ = delivery.claim_due(dead, clock.now(), None)
        [claim] = [c for c in claims if c.kind == "page"]
        deliver(dead, claim, first=True)  # the DM leaves; the process dies before the invite and record
        assert len(pages(emu, ONCALL, incident.id)) == 1
        emu.wait_for(
            lambda: next(r for r in outbox(dead, incident.id) if r.id == claim.id).deliveries.get("slack"),
            timeout=5,
        )

        clock.advance(delivery.LEASE + timedelta(seconds=1))
        engine.run_due(other)
        assert len(pages(emu, ONCALL, incident.id)) == 1  # not paged twice
        [row] = [r for r in outbox(other, incident.id) if r.id == claim.id]
        assert (row.status, row.attempts) == ("sent", 2)
        assert row.deliveries["slack"]["by"] == claim.results["slack"]["by"]  # the first DM's record
        assert row.deliveries["invite"]["ok"] is True  # what had not succeeded was done by the other

        # A progress write that arrives after the outcome is recorded changes nothing.
        progress.save(other.engine, row.id, claim.attempt, {"slack": {"ok": False}}, clock.now())
        time.sleep(0.3)
        [again] = [r for r in outbox(other, incident.id) if r.id == claim.id]
        assert (again.status, again.deliveries) == ("sent", row.deliveries)
    finally:
        close(dead)
        close(other)
