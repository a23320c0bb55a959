"""A realistic incident built with the real incident service, and fake ports that record calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.contacts.senders import ContactSenders
from bot.db.engine import create_db_engine, make_session_factory
from bot.incidents import service as incidents
from bot.incidents.models import Incident
from bot.incidents.timeline import BOT_ACTOR, EventKind, add_event
from bot.ports import ChatError, Posted
from bot.postmortem import service as pm
from bot.response import timers as response_timers
from bot.runtime import Runtime

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ONCALL, SCRIBE, REPORTER, LEAD = "U01ONCALL", "U02SCRIBE", "U03REPORTER", "U04LEAD"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declare(
    session: Session,
    policy: Policy,
    *,
    severity: str = "p1",
    title: str = "Checkout returns 502",
    now: datetime = T0,
    channel: str = "C0INC0001",
) -> Incident:
    incident, _ = incidents.declare(
        session,
        policy,
        severity=severity,
        title=title,
        reporter_id=REPORTER,
        origin_channel_id="C_GENERAL",
        now=now,
    )
    incident.channel_id = channel
    incident.channel_name = incidents.channel_name(incident.id, now, title)
    session.flush()
    return incident


def realistic(session: Session, policy: Policy | None = None, *, resolve: bool = True) -> Incident:
    """declare → page → ack → roles → status → diagnostics → notes, pins, :pushpin: → remediation
    → mitigated → status → action item → resolve: what a P1 at a web shop looks like."""
    policy = policy or Policy()
    inc = declare(session, policy)
    response_timers.plan(session, inc, policy)  # what the declare flow does: the steps' budgets
    add_event(
        session,
        inc.id,
        EventKind.PAGE,
        BOT_ACTOR,
        f"Paged <@{ONCALL}> (tier1)",
        data={"user": ONCALL, "tier": "tier1"},
        at=at(0.1),
    )
    incidents.acknowledge(session, inc, ONCALL, at(4))
    incidents.assign_role(session, policy, inc, "scribe", SCRIBE, ONCALL, at(5))
    incidents.add_note(
        session,
        inc,
        EventKind.STATUS_UPDATE,
        "Checkout fails for ~30% of users with 502; payments unaffected",
        SCRIBE,
        at(8),
    )
    add_event(
        session,
        inc.id,
        EventKind.DIAGNOSTIC,
        ONCALL,
        "/diag mysql orders: 1 critical, 1 ok",
        data={
            "command": "/diag mysql orders",
            "outcome": "crit",
            "findings": [
                {
                    "level": "crit",
                    "message": "Connections 485/500 (97% of max_connections)",
                    "fix": "Raise max_connections or fix the connection pool; find the leaking client",
                },
                {"level": "ok", "message": "No query running longer than 300 s", "fix": None},
            ],
        },
        at=at(10),
    )
    incidents.add_note(
        session,
        inc,
        EventKind.NOTE,
        "Pool exhausted since deploy v2.3.1 | suspect max_pool_size=500",
        ONCALL,
        at(15),
    )
    incidents.add_note(
        session,
        inc,
        EventKind.PIN,
        "Deploy v2.3.1 raised the pool size: <https://github.com/shop/api/pull/812|PR #812> by <@U05DEV>",
        LEAD,
        at(18),
        link="https://warroom-dev.slack.com/archives/C0INC0001/p1767603480000100",
    )
    add_event(
        session,
        inc.id,
        EventKind.REMEDIATION,
        ONCALL,
        "Rollout restart of deployment/checkout-api confirmed",
        data={"command": "/remediate k8s restart checkout-api", "outcome": "done", "findings": []},
        at=at(25),
    )
    incidents.add_note(
        session,
        inc,
        EventKind.REACTION,
        "Rolled back to v2.3.0; error rate falling",
        ONCALL,
        at(30),
        link="https://warroom-dev.slack.com/archives/C0INC0001/p1767605400000200",
    )
    incidents.mitigate(session, inc, ONCALL, at(80))
    # The checklist as the room ticked it: confirm and start in time, stop the loss and verify late.
    for position, minute in ((0, 1.5), (1, 4), (2, 30), (4, 85)):
        incidents.tick_checklist(session, inc, position, ONCALL, at(minute))
    incidents.add_note(
        session,
        inc,
        EventKind.STATUS_UPDATE,
        "Error rate back to 0.1%; checkout healthy, watching for 1 h",
        SCRIBE,
        at(82),
    )
    pm.add_action(
        session, inc, "Alert when DB connections reach 80% of max_connections", SCRIBE, ONCALL, at(90)
    )
    pm.add_action(session, inc, "Load-test pool settings in staging before release", None, LEAD, at(95))
    if resolve:
        incidents.resolve(session, inc, ONCALL, at(150))
    session.flush()
    return inc


@dataclass
class FakePorts:
    """WarRoomPort + PagerPort + FilePort that record what the bot asked for."""

    uploads: list[dict[str, str]] = field(default_factory=list)
    dms: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    fail_upload: str | None = None
    fail_dm: str | None = None

    def upload(self, channel_id: str, filename: str, title: str, content: str, comment: str) -> str:
        if self.fail_upload:
            raise ChatError(self.fail_upload)
        self.uploads.append(
            {
                "channel": channel_id,
                "filename": filename,
                "title": title,
                "content": content,
                "comment": comment,
            }
        )
        return f"F{len(self.uploads):08d}"

    def language_of(self, user_id: str) -> str | None:
        return None

    def direct_message(self, user_id: str, text: str) -> Posted:
        if self.fail_dm:
            raise ChatError(self.fail_dm)
        self.dms.append((user_id, text))
        return Posted("D" + user_id, str(len(self.dms)))

    def notify(self, channel_id: str, text: str) -> Posted:
        self.notices.append((channel_id, text))
        return Posted(channel_id, str(len(self.notices)))


def make_runtime(
    db_url: str,
    *,
    policy: Policy | None = None,
    clock: ManualClock | None = None,
    ports: object | None = None,
) -> Runtime:
    engine = create_db_engine(db_url)
    fake = ports or FakePorts()
    return Runtime(
        settings=Settings(database_url=db_url),
        policy=policy or Policy(),
        engine=engine,
        sessions=make_session_factory(engine),
        warroom=fake,  # type: ignore[arg-type]
        pager=fake,  # type: ignore[arg-type]
        files=fake,  # type: ignore[arg-type]
        contacts=ContactSenders(),
        clock=clock or ManualClock(T0),
    )
