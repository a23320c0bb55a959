"""Shared pieces of the escalation tests: a workspace with the guide's three tiers, a runtime on it, readers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import build_runtime
from bot.clock import Clock
from bot.config.loader import load_policy_text
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.db import create_db_engine, make_session_factory
from bot.db.engine import session_scope
from bot.escalation.models import EscalationState, PageOutbox
from bot.incidents import flows
from bot.incidents import service as incidents
from bot.incidents.models import Incident, TimelineEvent
from bot.runtime import Runtime
from devkit.slack_emulator import SlackEmulator, collect_actions

ONCALL, LEAD, DIRECTOR, REPORTER = "U0ONCALL", "U0LEAD", "U0DIRECTOR", "U0REPORTER"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"

# SPEC §4 as written, with the guide's path: on-call 15 min → tech lead 30 min → director 1 h.
GUIDE_POLICY = f"""
severities:
  p0: {{response: 15m}}
escalation:
  repeat: 0
  tiers:
    - name: tier1
      targets: [{ONCALL}]
      timeout: 15m
    - name: tier2
      targets: [{LEAD}]
      timeout: 30m
    - name: tier3
      targets: [{DIRECTOR}]
      timeout: 1h
"""


def guide_policy(extra: str = "") -> Policy:
    return load_policy_text(GUIDE_POLICY + extra)


def seed_users(emu: SlackEmulator) -> None:
    for name, uid in (("oncall", ONCALL), ("lead", LEAD), ("director", DIRECTOR), ("reporter", REPORTER)):
        emu.add_user(name, id=uid)


def make_runtime(
    emu: SlackEmulator, db_url: str, policy: Policy, clock: Clock | None = None, tick: float = 0.5
) -> Runtime:
    settings = Settings(
        slack_bot_token=emu.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emu.api_url,
        database_url=db_url,
        warroom_tick_seconds=tick,
    )
    return build_runtime(settings, policy, clock=clock, run_migrations=False)


def close(runtime: Runtime) -> None:
    runtime.executor.shutdown(wait=True)
    runtime.engine.dispose()


def declare(runtime: Runtime, severity: str = "p1", title: str = "Checkout returns 502") -> Incident:
    """Declare through the real flow: channel, summary, checklist… and escalation.start."""
    result = flows.declare(
        runtime,
        severity=severity,
        title=title,
        reporter_id=REPORTER,
        origin_channel_id="C_GENERAL",
        request_key=None,
    )
    assert not result.problems, result.problems
    with runtime.session() as session:
        incident = session.get(Incident, result.incident.id)
        assert incident is not None
        return incident


def pages(emu: SlackEmulator, user: str, incident_id: int | None = None) -> list[dict[str, Any]]:
    """Page DMs the user got: messages with an Acknowledge button for the incident."""
    found = []
    for message in emu.dms(user):
        acks = [a for a in collect_actions(message.get("blocks")) if a.action_id == "incident_ack"]
        if acks and (incident_id is None or acks[0].value == str(incident_id)):
            found.append(message)
    return found


def outbox(runtime: Runtime, incident_id: int | None = None) -> list[PageOutbox]:
    with runtime.session() as session:
        query = select(PageOutbox).order_by(PageOutbox.id)
        if incident_id is not None:
            query = query.where(PageOutbox.incident_id == incident_id)
        return list(session.scalars(query))


def state(runtime: Runtime, incident_id: int) -> EscalationState:
    with runtime.session() as session:
        row = session.get(EscalationState, incident_id)
        assert row is not None
        return row


def timeline(runtime: Runtime, incident_id: int, *kinds: str) -> list[TimelineEvent]:
    with runtime.session() as session:
        query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
        if kinds:
            query = query.where(TimelineEvent.kind.in_(kinds))
        return list(session.scalars(query.order_by(TimelineEvent.id)))


def channel_texts(emu: SlackEmulator, channel_id: str) -> list[str]:
    return [str(m.get("text", "")) for m in emu.messages(channel_id)]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def seed_open_incidents(
    db_url: str,
    policy: Policy,
    channels: list[str],
    now: datetime,
    name: str,
    arm: Callable[[Session, Incident], None],
) -> list[int]:
    """Open p2 incidents with rooms, as if just declared at `now` (for the bot processes to find);
    `arm` starts what the test is about (the ladder, the response clock) as the declare flow does."""
    engine = create_db_engine(db_url)
    ids = []
    try:
        with session_scope(make_session_factory(engine)) as session:
            for n, channel in enumerate(channels):
                incident, _ = incidents.declare(
                    session,
                    policy,
                    severity="p2",
                    title=f"{name.capitalize()} {n}",
                    reporter_id=REPORTER,
                    origin_channel_id=None,
                    now=now,
                )
                incident.channel_id, incident.channel_name = channel, f"inc-{name}-{n}"
                arm(session, incident)
                ids.append(incident.id)
    finally:
        engine.dispose()
    return ids
