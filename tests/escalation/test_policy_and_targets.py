"""Policy as SPEC §4 writes it, snapshotted at declare; user groups resolved through usergroups.users.list."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.config.loader import load_policy_text
from bot.escalation import engine, ladder
from tests.escalation.helpers import (
    DIRECTOR,
    GUIDE_POLICY,
    LEAD,
    ONCALL,
    close,
    declare,
    guide_policy,
    make_runtime,
    outbox,
    pages,
    state,
    timeline,
)

SPEC_YAML = """
severities:                # optional overrides of the table in §2
  p0: {response: 15m}
escalation:                # the default policy, used by every severity unless it names another
  repeat: 0                # how many times to loop over the tiers when nobody acknowledges
  tiers:
    - name: tier1          # 一线: on-call engineer
      targets: [U01ONCALL] # Slack user ids, user-group ids (S…), or rotation:<name>
      timeout: 15m         # wait this long after paging this tier before paging the next
    - name: tier2          # 二线: tech lead
      targets: [U02LEAD]
      timeout: 30m
    - name: tier3          # 三线: engineering director
      targets: [U03DIRECTOR]
      timeout: 1h
rotations:                 # optional: who is on call now
  primary: {users: [U01, U04], handoff: "mon 10:00", timezone: Asia/Shanghai, every: 1w}
"""


def test_the_spec_yaml_is_accepted_as_written() -> None:
    policy = load_policy_text(SPEC_YAML)
    ladder = policy.escalation_for("p2")
    assert ladder.repeat == 0
    assert [(t.name, t.targets, t.timeout) for t in ladder.tiers] == [
        ("tier1", ["U01ONCALL"], timedelta(minutes=15)),
        ("tier2", ["U02LEAD"], timedelta(minutes=30)),
        ("tier3", ["U03DIRECTOR"], timedelta(hours=1)),
    ]
    assert policy.severity("p0").response == timedelta(minutes=15)
    assert policy.rotations["primary"].timezone == "Asia/Shanghai"


def test_a_severity_can_name_its_own_ladder_and_the_ladder_is_fixed_at_declare(emu, db_url) -> None:
    policy = load_policy_text(
        GUIDE_POLICY.replace("p0: {response: 15m}", "p0: {response: 15m, escalation: critical}")
        + f"""
escalation_policies:
  critical:
    tiers:
      - {{name: everyone, targets: [{ONCALL}, {LEAD}, {DIRECTOR}], timeout: 5m}}
"""
    )
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, policy, clock)
    try:
        p0 = declare(runtime, severity="p0", title="Site down")
        p2 = declare(runtime, severity="p2", title="Slow search")
        # Editing the YAML after the declare changes nothing for these two incidents.
        runtime.policy = load_policy_text(GUIDE_POLICY.replace(f"[{ONCALL}]", f"[{DIRECTOR}]"))
        engine.run_due(runtime)
        assert state(runtime, p0.id).policy == "critical" and state(runtime, p2.id).policy == "default"
        assert [len(pages(emu, u, p0.id)) for u in (ONCALL, LEAD, DIRECTOR)] == [1, 1, 1]
        assert [len(pages(emu, u, p2.id)) for u in (ONCALL, LEAD, DIRECTOR)] == [1, 0, 0]
        clock.advance(timedelta(minutes=5))
        engine.run_due(runtime)
        assert state(runtime, p0.id).stopped_reason == "exhausted"
        assert state(runtime, p2.id).active
    finally:
        close(runtime)


def test_user_groups_are_paged_member_by_member_and_once_per_person(emu, db_url) -> None:
    emu.add_usergroup("sre", [ONCALL, LEAD], id="S0SRE")
    policy = guide_policy().model_copy(
        update={
            "escalation": load_policy_text(
                f"escalation: {{tiers: [{{name: tier1, targets: [S0SRE, {ONCALL}], timeout: 15m}}]}}"
            ).escalation
        }
    )
    runtime = make_runtime(emu, db_url, policy, ManualClock())
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        assert [len(pages(emu, u, incident.id)) for u in (ONCALL, LEAD)] == [1, 1]
        assert sorted(r.target for r in outbox(runtime, incident.id)) == sorted([ONCALL, LEAD])
        assert {ONCALL, LEAD} <= set(emu.channels[incident.channel_id].members)
        assert len(emu.calls_to("usergroups.users.list")) == 1
    finally:
        close(runtime)


def test_a_missing_group_is_reported_and_the_rest_of_the_tier_is_paged(emu, db_url) -> None:
    policy = guide_policy().model_copy(
        update={
            "escalation": load_policy_text(
                f"escalation: {{tiers: [{{name: tier1, targets: [S0GONE, {ONCALL}], timeout: 15m}}]}}"
            ).escalation
        }
    )
    runtime = make_runtime(emu, db_url, policy, ManualClock())
    try:
        incident = declare(runtime)
        engine.run_due(runtime)
        assert len(pages(emu, ONCALL, incident.id)) == 1
        [failed] = timeline(runtime, incident.id, "page_failed")
        assert failed.text == "Could not resolve S0GONE for tier1: no_such_subteam"
    finally:
        close(runtime)


def test_a_group_slack_cannot_list_right_now_is_retried_then_given_up(emu, db_url, monkeypatch) -> None:
    monkeypatch.setattr(ladder, "GROUP_BACKOFF", 0.0)  # retry on the next pass instead of after 2 s
    emu.add_usergroup("sre", [ONCALL, LEAD], id="S0SRE")
    policy = guide_policy().model_copy(
        update={
            "escalation": load_policy_text(
                f"escalation: {{tiers: [{{name: tier1, targets: [S0SRE, {DIRECTOR}], timeout: 15m}}]}}"
            ).escalation
        }
    )
    clock = ManualClock()
    runtime = make_runtime(emu, db_url, policy, clock)
    try:
        flaky = declare(runtime, title="Flaky lookup")
        emu.fail("usergroups.users.list", error="internal_error", times=2)
        engine.run_due(runtime)
        engine.run_due(runtime)
        assert pages(emu, ONCALL) == [] and pages(emu, DIRECTOR) == []  # the rung waits for its group
        engine.run_due(runtime)
        assert [len(pages(emu, u, flaky.id)) for u in (ONCALL, LEAD, DIRECTOR)] == [1, 1, 1]
        assert timeline(runtime, flaky.id, "page_failed") == []

        broken = declare(runtime, title="Broken lookup")
        emu.fail("usergroups.users.list", error="internal_error", times=None)
        engine.run_due(runtime)
        assert pages(emu, DIRECTOR, broken.id) == []
        clock.advance(timedelta(seconds=61))  # a minute of trying: page who can be paged
        engine.run_due(runtime)
        emu.clear_faults()
        assert len(pages(emu, DIRECTOR, broken.id)) == 1 and pages(emu, ONCALL, broken.id) == []
        [failed] = timeline(runtime, broken.id, "page_failed")
        assert failed.text == "Could not resolve S0SRE for tier1: internal_error"
    finally:
        close(runtime)
