"""Docker: `recreate <container>` (the guide's `docker-compose up -d --force-recreate`) and `prune`
(the guide's `docker system prune`), through the engine API.

recreate keeps the container's name, configuration, host configuration and networks, and makes a new
container from its image reference (so a re-tagged image is picked up): stop, rename the old one
aside, create, start, remove the old one. When create or start fails the old one gets its name back
and is started again, so a failed recreate leaves what was there.

prune removes stopped containers, dangling images, unused networks and build cache older than
`remediation.bounds.prune_until` (and with `label=`, only objects with that label); volumes never (data).
The preview shows what is reclaimable first (the engine's `system df`).
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from bot.diagnostics import docker as diag
from bot.diagnostics.base import UsageError, human_bytes
from bot.i18n import N_, _
from bot.remediation.actions.base import Action, ActionContext, Applied, Change, Preview, Refused

STOP_SECONDS = 10
_LABEL = re.compile(r"^[A-Za-z0-9_.\-/]{1,100}(=[A-Za-z0-9_.\-/:]{0,200})?$")
# What a new container must not inherit from the old one's inspect: the engine fills it in again.
_RUNTIME_KEYS = ("Hostname",)


# ---------------------------------------------------------------------------------- recreate
def _validate_recreate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_container(args[0])


def _inspect(ctx: ActionContext, name: str) -> dict[str, Any]:
    with diag.engine(ctx.check()) as api:
        info: dict[str, Any] = api.inspect_container(name)
    return info


def recreate_preview(ctx: ActionContext) -> Preview:
    info = _inspect(ctx, diag.validate_container(ctx.args[0]))
    name = diag.container_name(info)
    config = info.get("Config") or {}
    image_id = str(info.get("Image", ""))
    with diag.engine(ctx.check()) as api:
        try:
            current = str(api.inspect_image(config.get("Image"))["Id"])
        except Exception:  # the tag is gone: create would fail, say it now
            raise Refused(
                "no_image",
                _(
                    "The image `{image}` of {name} is not on the engine any more.",
                    image=config.get("Image"),
                    name=name,
                ),
            ) from None
    image_change = (
        _("same image")
        if current == image_id
        else _("{old} → {new} (re-tagged)", old=image_id[7:19], new=current[7:19])
    )
    return Preview(
        title=_("Recreate container {name}", name=name),
        changes=[
            Change(
                "container",
                str(info.get("Id", ""))[:12],
                _("a new container, same name and configuration"),
            ),
            Change("image", str(config.get("Image")), image_change),
        ],
        facts=[
            ("state", str((info.get("State") or {}).get("Status"))),
            ("restart count", str(info.get("RestartCount", 0))),
            ("networks", ", ".join((info.get("NetworkSettings") or {}).get("Networks") or {}) or "-"),
        ],
        note=_(
            "The container is stopped, replaced and started: anything written inside it (not in a volume) "
            "is lost. On failure the old container is put back."
        ),
        expect={"id": info.get("Id")},
    )


def _create_body(info: dict[str, Any]) -> dict[str, Any]:
    config = {k: v for k, v in (info.get("Config") or {}).items() if k not in _RUNTIME_KEYS}
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    endpoints = {
        net: {
            k: v for k, v in (endpoint or {}).items() if k in ("Aliases", "IPAMConfig", "Links", "DriverOpts")
        }
        for net, endpoint in networks.items()
        if net not in ("none", "host", "bridge") or net == (info.get("HostConfig") or {}).get("NetworkMode")
    }
    return {
        **config,
        "HostConfig": info.get("HostConfig") or {},
        "NetworkingConfig": {"EndpointsConfig": endpoints},
    }


def recreate_apply(ctx: ActionContext) -> Applied:
    old = _inspect(ctx, diag.validate_container(ctx.args[0]))
    if ctx.expect.get("id") and old.get("Id") != ctx.expect["id"]:
        raise Refused(
            "changed",
            _(
                "Container {container} was re-created since the preview; run the command again.",
                container=ctx.args[0],
            ),
        )
    name, old_id = diag.container_name(old), str(old["Id"])
    aside = f"{name}-warroom-old-{old_id[:8]}"
    with diag.engine(ctx.check()) as api:
        api.stop(old_id, timeout=STOP_SECONDS)
        api.rename(old_id, aside)
        try:
            # The engine API takes the inspect's Config + HostConfig as the create body (what the CLI sends).
            response = api._post_json(
                api._url("/containers/create"), data=_create_body(old), params={"name": name}
            )
            new_id = str(api._result(response, True)["Id"])
            api.start(new_id)
        except Exception:
            with contextlib.suppress(Exception):
                api.remove_container(name, force=True)
            api.rename(old_id, name)
            api.start(old_id)
            raise
        api.remove_container(old_id)
        new = api.inspect_container(new_id)
    return Applied(
        summary=_("Recreated container {name}", name=name),
        changes=[
            Change("container", old_id[:12], new_id[:12]),
            Change(
                "state",
                str((old.get("State") or {}).get("Status")),
                str((new.get("State") or {}).get("Status")),
            ),
        ],
        facts=[
            ("image", str((new.get("Config") or {}).get("Image"))),
            ("started at", diag.docker_time((new.get("State") or {}).get("StartedAt"))),
        ],
        note=_("Check it with `/diag docker logs {name}`.", name=name),
        data={"container": name, "old_id": old_id, "new_id": new_id},
    )


# -------------------------------------------------------------------------------------- prune
def _validate_prune(args: list[str], options: dict[str, str]) -> None:
    label = options.get("label")
    if label is not None and not _LABEL.match(label):
        raise UsageError(_("`label=` takes a label like `app=web`, not `{label}`.", label=label[:40]))


def _filters(ctx: ActionContext) -> dict[str, Any]:
    until = int(ctx.policy.remediation.bounds.prune_until.total_seconds())
    filters: dict[str, Any] = {"until": f"{until}s"}
    if "label" in ctx.options:
        filters["label"] = ctx.options["label"]
    return filters


def _prunable(ctx: ActionContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(stopped containers, dangling images, build cache bytes) matching the filters, from the engine."""
    filters = _filters(ctx)
    label = filters.get("label")
    with diag.engine(ctx.check()) as api:
        containers = api.containers(
            all=True,
            filters={"status": ["exited", "created", "dead"], **({"label": label} if label else {})},
            size=True,
        )
        images = api.images(filters={"dangling": True, **({"label": label} if label else {})})
        cache = (
            0
            if label
            else sum(
                int(c.get("Size") or 0) for c in (api.df().get("BuildCache") or []) if not c.get("InUse")
            )
        )
    # The engine's prune filters by age itself; the listings do not, so the preview filters the same way.
    oldest = time.time() - int(ctx.policy.remediation.bounds.prune_until.total_seconds())
    old = [c for c in containers if int(c.get("Created") or 0) <= oldest]
    return old, [i for i in images if int(i.get("Created") or 0) <= oldest], cache


def prune_preview(ctx: ActionContext) -> Preview:
    containers, images, cache = _prunable(ctx)
    sizes = sum(int(c.get("SizeRw") or 0) for c in containers), sum(int(i.get("Size") or 0) for i in images)
    if not containers and not images and not cache:
        raise Refused(
            "no_change", "Nothing to prune: no stopped container, dangling image or unused build cache."
        )
    until = _filters(ctx)["until"]
    return Preview(
        title=_("Prune the Docker engine")
        + (" " + _("(label {label})", label=ctx.options["label"]) if "label" in ctx.options else ""),
        changes=[
            Change(
                "stopped containers",
                f"{len(containers)} ({human_bytes(sizes[0])})",
                _("removed"),
            ),
            Change(
                "dangling images",
                f"{len(images)} ({human_bytes(sizes[1])})",
                _("removed"),
            ),
            Change("build cache", human_bytes(cache), _("removed") if cache else _("kept")),
        ],
        facts=[
            ("containers", ", ".join(diag.container_name(c) for c in containers[:10]) or "-"),
            ("older than", until),
            ("volumes", _("never pruned (they hold data)")),
        ],
        note=_(
            "Reclaimable about {size}. Only objects older than {until} are removed.",
            size=human_bytes(sum(sizes) + cache),
            until=until,
        ),
    )


def prune_apply(ctx: ActionContext) -> Applied:
    filters = _filters(ctx)
    with diag.engine(ctx.check()) as api:
        gone = api.prune_containers(filters=filters)
        images = api.prune_images(filters={**filters, "dangling": True})
        networks = api.prune_networks(filters=filters)
        cache = {} if "label" in filters else api.prune_builds(filters={"until": filters["until"]})
    removed = len(gone.get("ContainersDeleted") or [])
    freed = (
        int(gone.get("SpaceReclaimed") or 0)
        + int(images.get("SpaceReclaimed") or 0)
        + int(cache.get("SpaceReclaimed") or 0)
    )
    return Applied(
        summary=_("Pruned the Docker engine: {size} reclaimed", size=human_bytes(freed)),
        changes=[
            Change("stopped containers", "", _("{removed} removed", removed=removed)),
            Change("images", "", _("{removed} removed", removed=len(images.get("ImagesDeleted") or []))),
            Change(
                "networks", "", _("{removed} removed", removed=len(networks.get("NetworksDeleted") or []))
            ),
        ],
        note=_("Check the disk with `/diag docker df`."),
        data={"containers": [c[:12] for c in gone.get("ContainersDeleted") or []], "reclaimed": freed},
    )


ACTIONS = (
    Action(
        kind="docker",
        verb="recreate",
        usage="<container>",
        summary=N_("replace a container by a new one from its image, same name and configuration"),
        guide="docker-compose up -d --force-recreate app",
        args=1,
        validate=_validate_recreate,
        preview=recreate_preview,
        apply=recreate_apply,
        apply_grace=STOP_SECONDS * 2,
    ),
    Action(
        kind="docker",
        verb="prune",
        usage="[label=<key=value>]",
        summary=N_(
            "remove stopped containers, dangling images, unused networks and build cache (shows what is reclaimable first)"
        ),
        guide="docker system prune",
        args=0,
        options=("label",),
        validate=_validate_prune,
        preview=prune_preview,
        apply=prune_apply,
    ),
)
