"""The real thing: Debian's Alertmanager delivers its webhook to a real `warroom run` on the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.slack_emulator import SlackEmulator
from tests.alerts import alertmanager
from tests.alerts.helpers import ONCALL, all_text, policy_text, token_env
from tests.escalation.processes import BotProcess

pytestmark = pytest.mark.skipif(
    not alertmanager.available(), reason="prometheus-alertmanager missing: run scripts/start-services.sh"
)


def test_alertmanager_opens_pages_folds_and_resolves(sqlite_url: str, tmp_path: Path, monkeypatch) -> None:
    env, token = token_env()
    monkeypatch.setenv(env, token)  # BotProcess hands this process's environment to `warroom run`
    config = tmp_path / "warroom.yml"
    config.write_text(policy_text(env, announce=False))
    with SlackEmulator() as emu:
        emu.add_user("oncall", id=ONCALL)
        bot = BotProcess("bot", emu, sqlite_url, config, tmp_path).wait_healthy()
        am = alertmanager.Alertmanager(tmp_path, f"{bot.url}/alerts/prometheus", token)
        try:
            am.wait_ready()
            started = datetime.now(UTC) - timedelta(seconds=5)
            labels = {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"}
            annotations = {"summary": "Checkout 5xx above 5%", "description": "error ratio 7.5% for 5m"}
            am.fire({**labels, "instance": "a"}, annotations, starts=started)

            room = emu.wait_for(lambda: emu.find_channel_prefix("inc-"), timeout=20)
            assert "checkout-5xx-above-5" in room.name
            page = emu.wait_for(lambda: emu.dms(ONCALL), timeout=20)[0]
            assert "Checkout 5xx above 5%" in all_text(page)
            summary = emu.wait_for(
                lambda: next((m for m in emu.messages(room.id) if "Labels:" in all_text(m)), None), timeout=20
            )
            assert "error ratio 7.5% for 5m" in all_text(summary)
            assert "prometheus.example:9090" in all_text(summary)

            # Two more instances of the same alert join the group: folded, one message with a count.
            am.fire({**labels, "instance": "b"}, annotations, starts=started)
            emu.wait_for(
                lambda: [m for m in emu.messages(room.id) if "Alert repeated: 1 more" in m.get("text", "")],
                20,
            )
            am.fire({**labels, "instance": "c"}, annotations, starts=started)
            emu.wait_for(
                lambda: [m for m in emu.messages(room.id) if "Alert repeated: 2 more" in m.get("text", "")],
                20,
            )
            folds = [m for m in emu.messages(room.id) if "Alert repeated" in m.get("text", "")]
            assert len(folds) == 1, [m.get("text") for m in folds]

            for instance in ("a", "b", "c"):
                am.fire({**labels, "instance": instance}, annotations, starts=started, resolve=True)
            resolved = emu.wait_for(
                lambda: next(
                    (m for m in emu.messages(room.id) if "alert group resolved" in m.get("text", "")), None
                ),
                timeout=30,
            )
            assert "incident_resolve" in all_text(resolved)
            rooms = [c for c in emu.calls_to("conversations.create") if c.ok]
            assert len(rooms) == 1
        except BaseException:
            print(bot.log())
            print(am.log())
            raise
        finally:
            am.stop()
            bot.stop()
