"""`/incident contacts` (desks through rotations, external lines) and `/incident audit` / `warroom audit`."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime, timedelta

from bot.audit import cli as audit_cli
from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from devkit.slack_emulator import blocks_to_text
from tests.harness import Harness

POLICY = {
    "escalation": {"tiers": [{"name": "ops1", "targets": ["rotation:ops"], "timeout": "15m"}]},
    "escalation_policies": {
        "security": {"tiers": [{"name": "sec1", "targets": ["S0SECURITY"], "timeout": "10m"}]},
        "dev": {"tiers": [{"name": "dev1", "targets": ["U0CAROL"], "timeout": "15m"}]},
    },
    "rotations": {
        "ops": {
            "users": ["U0ALICE", "U0BOB"],
            "handoff": "mon 10:00",
            "timezone": "Asia/Shanghai",
            "start": "2026-11-30",
        }
    },
    "external_contacts": [
        {"name": "云服务商支持", "phone": "+86 400 000 0000", "note": "enterprise support, account 1234"},
        {
            "name": "Monitoring vendor",
            "email": "support@monitoring.example",
            "url": "https://status.monitoring.example",
        },
    ],
}


def _answer(h: Harness, text: str, **kw: str) -> str:
    posts = h.command(text, **kw).wait_responses(1, timeout=10)
    return blocks_to_text(posts[-1].get("blocks"), posts[-1].get("text"))


def test_contacts_show_each_desk_on_call_now_and_external_lines(sqlite_url: str) -> None:
    # Thu 2026-12-03: the second week of the ops rotation that started Mon 2026-11-30 10:00 → still alice.
    clock = ManualClock(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    with Harness(sqlite_url, policy=Policy.model_validate(POLICY), clock=clock) as h:
        h.emulator.add_usergroup("security-oncall", [h.carol, h.bob], id="S0SECURITY")
        shown = _answer(h, "contacts")
        ops, security, dev = (shown.split("Desk `")[i] for i in (1, 2, 3))
        assert ops.startswith("default") and "rotation:ops → @U0ALICE" in ops and "U0BOB" not in ops
        assert "Mon 07 Dec 10:00 Asia/Shanghai" in ops
        assert security.startswith("security") and "pages for: security" in security
        assert "@U0CAROL" in security and "@U0BOB" in security
        assert dev.startswith("dev") and "@U0CAROL" in dev
        assert "云服务商支持" in shown and "+86 400 000 0000" in shown and "account 1234" in shown
        assert "support@monitoring.example" in shown
        clock.advance(timedelta(days=5))  # Tue 8 Dec: bob's week
        assert "rotation:ops → @U0BOB" in _answer(h, "contacts").split("Desk `")[1]


def test_audit_uploads_the_record_and_the_cli_prints_it(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with Harness(sqlite_url) as h:
        incident = h.declare("p2 Search is slow")
        room = incident.channel_id
        assert room
        h.reply(h.command("http http://svc:hunter2@127.0.0.1:1/health", channel=room, name="/diag"))
        h.wait_until(lambda: "1 entries" in _answer(h, "audit", channel=room) or None, timeout=15)
        files = {f.name: f for f in h.emulator.uploaded_files(room)}
        assert set(files) >= {f"inc-{incident.id}-audit.csv", f"inc-{incident.id}-audit.json"}
        rows = list(csv.DictReader(io.StringIO(files[f"inc-{incident.id}-audit.csv"].content.decode())))
        assert len(rows) == 1
        row = rows[0]
        assert row["actor"] == h.alice and row["channel"] == room and row["action"] == "diag"
        assert row["command"].startswith("http") and row["outcome"] in ("crit", "error", "warn")
        assert json.loads(row["findings"])  # what it found, e.g. the refused connection
        record = json.loads(files[f"inc-{incident.id}-audit.json"].content)
        assert record["incident"] == incident.id and record["entries"][0]["id"] == int(row["id"])
        everything = b"".join(f.content for f in files.values()).decode()
        assert "hunter2" not in everything

        args = argparse.Namespace(incident=f"INC-{incident.id}", format="json", out=None)
        assert audit_cli.run(args, Settings(database_url=sqlite_url)) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed == record
        args = argparse.Namespace(incident="INC-99", format="csv", out=None)
        assert audit_cli.run(args, Settings(database_url=sqlite_url)) == 1
        assert "no incident INC-99" in capsys.readouterr().err


def test_help_names_the_typed_declare_and_the_types(sqlite_url: str) -> None:
    types = {"payments": {"label": "支付事件", "escalation": "dev"}}
    with Harness(sqlite_url, policy=Policy.model_validate({**POLICY, "incident_types": types})) as h:
        shown = _answer(h, "help")
    line = next(row for row in shown.splitlines() if "<type> p0|p1|p2|p3 <title>" in row)
    assert "`payments`" in line and "`security`" not in line  # the policy's own types replace the default
    with Harness(sqlite_url, policy=Policy.model_validate(POLICY)) as h:
        shown = _answer(h, "help")
    assert "`security`" in next(row for row in shown.splitlines() if "<type> p0|p1|p2|p3" in row)
