"""AWS: `ebs-grow <volume-id> <GiB>` — the guide's `aws ec2 modify-volume --volume-id … --size 100`.

Grow only: a size at or below the current one is refused (EBS cannot shrink, and a smaller
number is a typo), and so is a size over `remediation.ebs_max_gib` or over the volume type's
maximum. A volume still being modified is refused too (AWS allows one modification at a time,
then a 6-hour cooldown). The filesystem must still be extended on the host afterwards
(`growpart`, `resize2fs`): the bot has no shell, the result says so.
"""

from __future__ import annotations

from typing import Any

from bot.config.policy import Policy
from bot.diagnostics import aws as diag
from bot.diagnostics.base import UsageError
from bot.i18n import N_, _
from bot.remediation.actions.base import (
    Action,
    ActionContext,
    Applied,
    Change,
    Preview,
    Refused,
    whole_number,
)

IAM_ACTIONS = ("ec2:DescribeVolumes", "ec2:DescribeVolumesModifications", "ec2:ModifyVolume")
# The largest size of each volume type, GiB (io2 Block Express goes to 64 TiB).
TYPE_MAX_GIB = {"standard": 1024, "gp2": 16384, "gp3": 16384, "io1": 16384, "io2": 65536,
                "st1": 16384, "sc1": 16384}  # fmt: skip
BUSY = ("modifying", "optimizing")


def _validate(args: list[str], options: dict[str, str]) -> None:
    if args:
        diag.validate_ebs(args[:1], options)
    if len(args) > 1 and whole_number(args[1], N_("The new size in GiB")) < 1:
        raise UsageError(_("The new size must be at least 1 GiB."))


def bounds(policy: Policy, args: list[str], options: dict[str, str]) -> None:
    wanted, limit = int(args[1]), policy.remediation.ebs_max_gib
    if wanted > limit:
        raise Refused(
            "out_of_bounds",
            _(
                "{wanted} GiB is over the limit of {limit} GiB for `aws ebs-grow` "
                "(`remediation.ebs_max_gib` in the YAML policy).",
                wanted=wanted,
                limit=limit,
            ),
        )


def _describe(ctx: ActionContext) -> tuple[dict[str, Any], dict[str, Any] | None]:
    check = ctx.check()
    volume_id = ctx.args[0]
    with diag.aws(check, "ec2") as ec2:
        volumes = diag.describe_volumes(ec2, [volume_id])
        if not volumes:
            raise UsageError(
                _("No EBS volume {volume_id} in {region}.", volume_id=volume_id, region=ctx.target.region)
            )
        modification = diag.describe_modifications(ec2, [volume_id]).get(volume_id)
    return volumes[0], modification


def _attachment(volume: dict[str, Any]) -> str:
    return (
        ", ".join(f"{a.get('InstanceId')}:{a.get('Device')}" for a in volume.get("Attachments") or []) or "-"
    )


def _facts(volume: dict[str, Any], modification: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [
        ("volume", f"{volume['VolumeId']}" + (f" ({diag.tag_value(volume.get('Tags'))})" if diag.tag_value(volume.get("Tags")) else "")),
        ("type", f"{volume.get('VolumeType', '?')}, {volume.get('Iops', '-')} IOPS"),
        ("state", str(volume.get("State", "?"))),
        ("attached to", _attachment(volume)),
        ("last modification", diag.modification_text(modification)),
    ]  # fmt: skip


def _check_growth(volume: dict[str, Any], modification: dict[str, Any] | None, wanted: int) -> int:
    size = int(volume.get("Size") or 0)
    vid = volume["VolumeId"]
    if wanted <= size:
        raise Refused(
            "grow_only",
            _(
                "{volume} is already {size} GiB: `ebs-grow` only grows a volume (EBS cannot shrink). "
                "Ask for more than {size} GiB.",
                volume=vid,
                size=size,
            ),
        )
    kind = str(volume.get("VolumeType") or "")
    if kind in TYPE_MAX_GIB and wanted > TYPE_MAX_GIB[kind]:
        raise Refused(
            "out_of_bounds",
            _(
                "A {kind} volume can be at most {most} GiB, not {wanted}.",
                kind=kind,
                most=TYPE_MAX_GIB[kind],
                wanted=wanted,
            ),
        )
    if modification and modification.get("ModificationState") in BUSY:
        raise Refused(
            "in_progress",
            _(
                "{volume} is still being modified ({state}); AWS takes one "
                "modification at a time. Follow it with `/diag aws ebs {volume}`.",
                volume=vid,
                state=diag.modification_text(modification),
            ),
        )
    return size


def grow_preview(ctx: ActionContext) -> Preview:
    volume, modification = _describe(ctx)
    wanted = int(ctx.args[1])
    size = _check_growth(volume, modification, wanted)
    return Preview(
        title=_("Grow EBS volume {volumeid}", volumeid=volume["VolumeId"]),
        changes=[Change("size", f"{size} GiB", f"{wanted} GiB")],
        facts=_facts(volume, modification),
        note=_(
            "The volume stays attached and in use. AWS allows one modification per volume every 6 hours; "
            "afterwards {resize}.",
            resize=diag.resize_advice(volume),
        ),
        expect={"size": size},
    )


def grow_apply(ctx: ActionContext) -> Applied:
    volume, modification = _describe(ctx)
    wanted = int(ctx.args[1])
    size = _check_growth(volume, modification, wanted)
    check = ctx.check()
    with diag.aws(check, "ec2") as ec2:
        response = ec2.modify_volume(VolumeId=volume["VolumeId"], Size=wanted)
    mod = response.get("VolumeModification") or {}
    state = mod.get("ModificationState", "modifying")
    return Applied(
        summary=_("Growing EBS volume {volumeid} to {size} GiB ({state})", volumeid=volume['VolumeId'], size=mod.get('TargetSize', wanted), state=state),
        changes=[Change("size", f"{mod.get('OriginalSize', size)} GiB", f"{mod.get('TargetSize', wanted)} GiB")],
        facts=[("volume", volume["VolumeId"]), ("attached to", _attachment(volume)), ("modification", str(state))],
        note=_("Follow it with `/diag aws ebs {volumeid}`; once it is optimizing, {resize_advice}.", volumeid=volume['VolumeId'], resize_advice=diag.resize_advice(volume)),
        data={"volume": volume["VolumeId"], "before_gib": size, "target_gib": mod.get("TargetSize", wanted),
              "state": state},
    )  # fmt: skip


ACTIONS = (
    Action(
        kind="aws",
        verb="ebs-grow",
        usage="<volume-id> <GiB>",
        summary=N_("grow an EBS volume (grow only, up to remediation.ebs_max_gib)"),
        guide="aws ec2 modify-volume --volume-id $VOLUME_ID --size 100",
        args=2,
        validate=_validate,
        bounds=bounds,
        preview=grow_preview,
        apply=grow_apply,
    ),
)
