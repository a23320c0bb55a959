"""Docker: `restart <container>` — the guide's `docker restart` / `docker-compose restart app`.

The engine stops the container (SIGTERM, SIGKILL after STOP_SECONDS) and starts it again; the preview
shows its state, start time and restart count, the result the new start time. The environment and
command line are never shown (they are where secrets live); what is shown passes the masker.
"""

from __future__ import annotations

from typing import Any

from bot.diagnostics import docker as diag
from bot.diagnostics.base import clean_line
from bot.i18n import N_, _
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused

STOP_SECONDS = 10  # docker's own default for `docker restart -t`


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_container(args[0])


def _inspect(ctx: ActionContext) -> dict[str, Any]:
    check = ctx.check()
    with diag.engine(check) as api:
        info: dict[str, Any] = api.inspect_container(diag.validate_container(ctx.args[0]))
    return info


def _state(info: dict[str, Any]) -> str:
    state = info.get("State") or {}
    status = str(state.get("Status") or "?")
    if status == "exited":
        status += f" ({state.get('ExitCode')})" + (", OOMKilled" if state.get("OOMKilled") else "")
    health = (state.get("Health") or {}).get("Status")
    if health:
        status += f", {health}"
    age = diag.age_of(state.get("StartedAt"))
    if state.get("Status") == "running" and age:
        status += f" for {age}"
    return status


def _facts(info: dict[str, Any]) -> list[tuple[str, str]]:
    state = info.get("State") or {}
    config, host = info.get("Config") or {}, info.get("HostConfig") or {}
    policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
    return [
        ("container", f"{diag.container_name(info)} ({str(info.get('Id', ''))[:12]})"),
        ("image", clean_line(str(config.get("Image") or "?"), 200)),
        ("state", _state(info)),
        ("started at", diag.docker_time(state.get("StartedAt"))),
        ("restart count", str(info.get("RestartCount", 0))),
        ("restart policy", policy),
    ]


def restart_preview(ctx: ActionContext) -> Preview:
    info = _inspect(ctx)
    state = info.get("State") or {}
    if state.get("Status") in ("removing", "dead"):
        raise Refused(
            "not_restartable",
            _(
                "Container {container_name} is {status}: it cannot be restarted.",
                container_name=diag.container_name(info),
                status=state.get("Status"),
            ),
        )
    return Preview(
        title=_("Restart container {container_name}", container_name=diag.container_name(info)),
        changes=[
            Change("state", _state(info), _("running (stopped, then started again)")),
            Change("started at", diag.docker_time(state.get("StartedAt")), "the time of the confirm"),
        ],
        facts=_facts(info),
        note=_(
            "The engine sends SIGTERM and kills the process after {seconds} s if it has not stopped; "
            "connections to it drop meanwhile.",
            seconds=STOP_SECONDS,
        ),
        expect={"id": info.get("Id")},
    )


def restart_apply(ctx: ActionContext) -> Applied:
    before = _inspect(ctx)
    if ctx.expect.get("id") and before.get("Id") != ctx.expect["id"]:
        raise Refused(
            "changed",
            _(
                "Container {container} was re-created since the preview (another id); run the command again.",
                container=ctx.args[0],
            ),
        )
    check = ctx.check()
    with diag.engine(check) as api:
        # The SDK adds the stop timeout to the HTTP timeout, so a slow stop is not a timeout.
        api.restart(before["Id"], timeout=STOP_SECONDS)
    after = _inspect(ctx)
    old, new = (before.get("State") or {}), (after.get("State") or {})
    return Applied(
        summary=_("Restarted container {container_name}", container_name=diag.container_name(after)),
        changes=[
            Change("state", _state(before), _state(after)),
            Change(
                "started at", diag.docker_time(old.get("StartedAt")), diag.docker_time(new.get("StartedAt"))
            ),
        ],
        facts=_facts(after),
        note=_(
            "Check it with `/diag docker inspect {container_name}` and `/diag docker logs {container_name}`.",
            container_name=diag.container_name(after),
        ),
        data={
            "container": diag.container_name(after),
            "id": after.get("Id"),
            "started_before": old.get("StartedAt"),
            "started_after": new.get("StartedAt"),
            "status": new.get("Status"),
        },
    )


ACTIONS = (
    Action(
        kind="docker",
        verb="restart",
        usage="<container>",
        summary=N_("stop and start a container again"),
        guide="docker restart ecommerce-app (docker-compose restart app)",
        args=1,
        validate=_validate,
        preview=restart_preview,
        apply=restart_apply,
        apply_grace=STOP_SECONDS * 2,
    ),
)
