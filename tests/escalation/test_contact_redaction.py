"""Contact addresses in logs: enough to tell which one failed, never the whole address."""

from __future__ import annotations

from bot.contacts import redact


def test_addresses_are_shortened_for_logs_and_a_broken_url_never_raises() -> None:
    assert redact("+8613800000000") == "+86*******0000"
    assert redact("oncall@example.com") == "o***@example.com"
    assert redact("https://hooks.example.com/T0/B0/secret") == "https://hooks.example.com/…"
    assert redact("https://[hooks.example.com/secret") == "https://…"  # urllib: "Invalid IPv6 URL"
