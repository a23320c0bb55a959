"""Postmortem flows: draft → store → upload to the incident channel; the resolve and reopen hooks.

The draft is stored (committed) before Slack is called, so a failed upload never loses it:
`/incident postmortem` can upload it again and `warroom postmortem <id>` prints it.
The incident's policy snapshot decides the language and the review deadline, like everything
else about a running incident (SPEC §4), so the bot and the CLI always agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.i18n import N_, _, use_language
from bot.incidents.models import Incident
from bot.incidents.service import IncidentError
from bot.incidents.timeline import EventKind, add_event, said
from bot.ports import ChatError
from bot.postmortem import reminders, service
from bot.postmortem.content import DraftContent, collect, policy_of
from bot.postmortem.models import PostmortemDraft
from bot.postmortem.summary import upload_comment
from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    incident_id: int
    version: int
    language: str
    file_id: str | None
    error: str | None  # the Slack error code when the upload failed
    comment: str  # the summary posted with the file

    @property
    def uploaded(self) -> bool:
        return self.file_id is not None


def filename(incident_id: int, version: int) -> str:
    return f"inc-{incident_id}-postmortem-v{version}.md"


def publish(runtime: Runtime, incident_id: int, actor: str, *, language: str | None = None) -> Published:
    """Draft the postmortem from the timeline, store it as the next version and upload it."""
    now = runtime.clock.now()
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentError(_("There is no incident INC-{id}.", id=incident_id))
        policy = policy_of(incident, runtime.policy)
        content: DraftContent = collect(session, incident, now, policy)
        draft = service.create_draft(
            session, incident, actor, now, language=language, policy=policy, content=content
        )
        channel_id = incident.channel_id
        version, lang, body = draft.version, draft.language, draft.body
        draft_id = draft.id
    comment = upload_comment(content, version=version, language=lang)
    with use_language(lang):
        title = _(
            "INC-{id} postmortem draft v{version} — {title}",
            id=incident_id,
            version=version,
            title=content.incident.title,
        )
    file_id: str | None = None
    error: str | None = None
    if channel_id is None:
        error = "no_channel"
    else:
        try:
            file_id = (
                runtime.files.upload(channel_id, filename(incident_id, version), title, body, comment) or None
            )
        except ChatError as exc:
            log.warning("postmortem upload failed: %s", exc.code, extra={"incident_id": incident_id})
            error = exc.code
    with runtime.session() as session:
        stored = session.get(PostmortemDraft, draft_id)
        if stored is not None:
            stored.file_id = file_id
        if file_id:
            text, said_data = said(N_("Postmortem draft v{version} uploaded"), version=str(version))
        else:
            text, said_data = said(
                N_("Postmortem draft v{version} stored; the upload failed ({error})"),
                version=str(version),
                error=str(error),
            )
        add_event(
            session,
            incident_id,
            EventKind.POSTMORTEM,
            actor,
            text,
            data={"version": version, "language": lang, "file_id": file_id, "error": error, **said_data},
            dedupe_key=f"postmortem:v{version}",
            at=now,
        )
    return Published(incident_id, version, lang, file_id, error, comment)


def on_resolved(runtime: Runtime, incident_id: int, actor: str) -> None:
    """Hook after a resolve commits: start the review timer, then draft and upload (if configured)."""
    try:
        with runtime.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or incident.status != "resolved":
                return
            policy = policy_of(incident, runtime.policy)
            reminders.start(session, incident, policy, runtime.clock.now())
        if policy.postmortem.on_resolve:
            published = publish(runtime, incident_id, actor)
            if not published.uploaded:
                _tell(runtime, incident_id, published)
    except Exception:
        # The resolve itself has committed and must still be answered; the draft can be redone by hand.
        log.exception("postmortem on resolve failed", extra={"incident_id": incident_id})


def on_reopened(runtime: Runtime, incident_id: int, actor: str) -> None:
    """Hook after a reopen commits: no review is due while the incident is open again."""
    try:
        with runtime.session() as session:
            reminders.stop(session, incident_id)
    except Exception:
        log.exception("stopping the review timer failed", extra={"incident_id": incident_id})


def _tell(runtime: Runtime, incident_id: int, published: Published) -> None:
    with runtime.session() as session:
        incident = session.get(Incident, incident_id)
        channel_id = incident.channel_id if incident else None
    if channel_id is None or published.error == "no_channel":
        return
    with use_language(published.language):  # the room's language, the draft's
        text = _(
            ":warning: Postmortem draft v{version} is stored, but the upload failed ({error}). "
            "`/incident postmortem` tries again; `warroom postmortem {id}` prints it.",
            version=published.version,
            error=published.error,
            id=incident_id,
        )
    try:
        runtime.warroom.notify(channel_id, text)
    except ChatError as exc:
        log.warning("notice failed: %s", exc.code, extra={"incident_id": incident_id})
