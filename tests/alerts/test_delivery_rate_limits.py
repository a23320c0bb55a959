"""Pages leave side by side, and a 429 closes that method's gate for every sender, not just one."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import engine
from devkit.slack_emulator import SlackEmulator
from tests.escalation.helpers import REPORTER, close, declare, make_runtime, pages

PEOPLE = [f"U0P{n:03d}" for n in range(80)]  # more than the 32 senders, so some are still to call


def test_a_429_holds_back_every_sender_of_that_method_for_retry_after(pg_url: str) -> None:
    policy = load_policy_text(
        "escalation:\n  tiers:\n    - name: tier1\n      targets: ["
        + ", ".join(PEOPLE)
        + "]\n      timeout: 15m\n"
    )
    with SlackEmulator() as emu:
        emu.add_user("reporter", id=REPORTER)
        for user in PEOPLE:
            emu.add_user(user.lower(), id=user)
        runtime = make_runtime(emu, pg_url, policy, ManualClock())
        try:
            incident = declare(runtime)
            emu.reset_calls()
            emu.fail("chat.postMessage", 429, retry_after=2, times=1)
            engine.run_due(runtime)
            assert all(len(pages(emu, user, incident.id)) == 1 for user in PEOPLE)  # each exactly once
            posts = emu.calls_to("chat.postMessage")
            [limited] = [c for c in posts if c.status == 429]  # one refusal, not one per sender
            # Calls already in flight finish; nobody starts a new chat.postMessage until Retry-After ends.
            held = [c for c in posts if c.ok and limited.time + 0.5 < c.time < limited.time + 1.8]
            assert held == [], [round(c.time - limited.time, 2) for c in held]
            assert len([c for c in posts if c.ok and c.time >= limited.time + 1.8]) > 0
        finally:
            close(runtime)
