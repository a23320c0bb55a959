"""`warroom rehearse` golden outputs: DST changes, a rotation hand-off mid-ladder, repeat, an ack,
a tier that pages nobody (exit 1) and input it cannot use (exit 2). Set WARROOM_GOLDEN_UPDATE=1 to
rewrite the files — then read every changed line before committing it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main

GOLDEN = Path(__file__).parent / "golden"

# The guide's ladder with a weekly rotation in New York handing off on Sunday 03:00 — the day the
# clocks spring forward (2026-03-08 02:00 EST -> 03:00 EDT).
NEW_YORK = """
escalation:
  repeat: 1
  tiers:
    - name: tier1
      targets: [rotation:primary]
      timeout: 15m
    - name: tier2
      targets: [U02LEAD, S0SRE]
      timeout: 30m
rotations:
  primary: {users: [U01ANN, U04BOB], handoff: "sun 03:00", timezone: America/New_York, every: 1w}
"""

# A daily Berlin rotation handing off at 02:30 — a wall time that happens twice on 2026-10-25
# (03:00 CEST -> 02:00 CET); production reads it as its first occurrence (CEST).
BERLIN = """
severities:
  p0: {response: 15m}
escalation:
  repeat: 0
  tiers:
    - name: tier1
      targets: [rotation:eu]
      timeout: 20m
    - name: tier2
      targets: [rotation:eu, U03DIRECTOR]
      timeout: 1h
rotations:
  eu: {users: [U0HANS, U0GRETA, U0JONAS], handoff: "02:30", timezone: Europe/Berlin, every: 1d}
"""

SHANGHAI = """
language: zh
escalation:
  repeat: 0
  tiers:
    - name: 一线
      targets: [rotation:primary]
      timeout: 15m
    - name: 二线
      targets: [U02LEAD]
      timeout: 30m
    - name: 三线
      targets: [U03DIRECTOR]
      timeout: 1h
rotations:
  primary: {users: [U01, U04], handoff: "mon 10:00", timezone: Asia/Shanghai, every: 1w}
"""

BROKEN = """
escalation:
  repeat: 0
  tiers:
    - name: tier1
      targets: [U01ONCALL]
      timeout: 15m
    - name: tier2
      targets: []
      timeout: 30m
"""

UNKNOWN_ROTATION = """
escalation:
  tiers:
    - name: tier1
      targets: [rotation:nights]
      timeout: 15m
"""

# A named ladder for P0 (severities.p0.escalation), repeated twice, acknowledged in its second loop.
NAMED_LADDER = """
severities:
  p0: {response: 10m, escalation: critical}
escalation:
  tiers:
    - {name: tier1, targets: [U01ONCALL], timeout: 15m}
escalation_policies:
  critical:
    repeat: 2
    tiers:
      - {name: oncall, targets: [U01ONCALL, U05SECOND], timeout: 5m}
      - {name: lead, targets: [U02LEAD], timeout: 5m}
"""

CASES = {
    "named_ladder_repeat_ack_in_loop_2": (
        NAMED_LADDER,
        ["--severity", "P0", "--at", "2026-12-06T03:00+08:00", "--ack-after", "12m"],
        0,
    ),
    "new_york_spring_forward_handoff": (NEW_YORK, ["--at", "2026-03-08 01:50 America/New_York"], 0),
    "berlin_fall_back_p0": (BERLIN, ["--severity", "p0", "--at", "2026-10-25 01:55 Europe/Berlin"], 0),
    "shanghai_zh_ack_after_20m": (
        SHANGHAI,
        ["--at", "2026-12-06 03:00 Asia/Shanghai", "--ack-after", "20m"],
        0,
    ),
    "tier_pages_nobody": (BROKEN, ["--at", "2026-12-06 03:00 UTC"], 1),
    "bad_time": (BROKEN, ["--at", "next sunday"], 2),
    "bad_zone": (BROKEN, ["--at", "2026-12-06 03:00 Mars/Olympus"], 2),
    "unknown_rotation_refused": (UNKNOWN_ROTATION, [], 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rehearse_golden(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, args, code = CASES[name]
    file = tmp_path / "policy.yml"
    file.write_text(policy)
    assert main(["rehearse", "--policy", str(file), *args]) == code
    captured = capsys.readouterr()
    output = (captured.out + captured.err).replace(str(file), "policy.yml")
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("WARROOM_GOLDEN_UPDATE"):
        golden.write_text(output)
    assert output == golden.read_text()
