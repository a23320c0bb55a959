"""`:rehearse` in the console: the console's own policy played on a fake clock, nothing sent."""

from __future__ import annotations

from devkit.console import DEMO_POLICY, Console


def test_rehearse_in_the_console_prints_the_ladder_and_sends_nothing(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    console = Console(sqlite_url, str(DEMO_POLICY))
    try:
        before = len(console.emu.calls)
        assert console.handle(':rehearse p0 --at "2026-12-07 09:50 Asia/Shanghai" --ack-after 50m')
        out = capsys.readouterr().out
        posts = [c for c in console.emu.calls[before:] if c.method == "chat.postMessage"]
        assert posts == []
        # The demo rotation hands off on Monday 10:00 Shanghai time: tier 1 is U0ONCALL's last page.
        assert (
            "tier1 (loop 1 of 1) pages U0ONCALL (rotation:primary, on call until 2026-12-07 10:00 CST, then U0YOU)"
            in out
        )
        assert "+15m  2026-12-07 10:05 CST  tier2 (loop 1 of 1) pages U0LEAD" in out
        assert "+45m  2026-12-07 10:35 CST  tier3 (loop 1 of 1) pages U0DIRECTOR" in out
        assert "+50m  2026-12-07 10:40 CST  acknowledged: escalation stops" in out
        assert "+15m  2026-12-07 10:05 CST  response target (15m) passes unacknowledged" in out

        assert console.handle(":rehearse p7")
        assert "Unknown severity 'p7'" in capsys.readouterr().out
    finally:
        console.close()
