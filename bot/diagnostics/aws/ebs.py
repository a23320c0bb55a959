"""EBS volumes and the progress of their modify-volume changes (the guide's disk section)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnostics.aws.client import MAX_LISTED, VOLUME_ID, aws, tag_value, validate_ids
from bot.diagnostics.base import (
    CheckContext,
    Level,
    Report,
    format_table,
)
from bot.i18n import N_, _


def validate_ebs(args: list[str], options: dict[str, str]) -> None:
    validate_ids(args, VOLUME_ID, N_("EBS volume id"), "vol-0123456789abcdef0")


# ------------------------------------------------------------------------------------------- ebs
def ebs(ctx: CheckContext) -> Report:
    """EBS volumes: size, type, state, attachment, and the progress of modify-volume changes."""
    ids = validate_ids(ctx.args, VOLUME_ID, N_("EBS volume id"), "vol-0123456789abcdef0")
    with aws(ctx, "ec2") as client:
        volumes = describe_volumes(client, ids)
        modifications = describe_modifications(client, [v["VolumeId"] for v in volumes]) if volumes else {}
    report = Report()
    for volume in volumes:
        _volume_findings(report, volume, modifications.get(volume["VolumeId"]))
    if not volumes:
        report.warn(_("no EBS volumes found"), _("check the target's region"))
    elif not any(f.level is not Level.OK for f in report.findings):
        size = sum(v.get("Size", 0) for v in volumes)
        report.ok(_("{n} volumes, {size} GiB, none in error", n=len(volumes), size=size))
    report.detail = format_table(
        ["VOLUME", "NAME", "SIZE", "TYPE", "IOPS", "STATE", "ATTACHED TO", "MODIFICATION"],
        [_volume_row(v, modifications.get(v["VolumeId"])) for v in volumes],
    )
    report.data["volumes"] = {
        v["VolumeId"]: {"size": v.get("Size"), "state": v.get("State"),
                        "modification": (modifications.get(v["VolumeId"]) or {}).get("ModificationState"),
                        "progress": (modifications.get(v["VolumeId"]) or {}).get("Progress")}
        for v in volumes
    }  # fmt: skip
    return report


def describe_volumes(client: Any, ids: list[str]) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"VolumeIds": ids} if ids else {}
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_volumes").paginate(**kwargs):
        found += page.get("Volumes", [])
        if len(found) >= MAX_LISTED:
            break
    return found[:MAX_LISTED]


def describe_modifications(client: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest modification per volume. A filter, not VolumeIds: with VolumeIds, AWS fails the whole
    call when one of the volumes was never modified."""
    response = client.describe_volumes_modifications(Filters=[{"Name": "volume-id", "Values": ids}])
    latest: dict[str, dict[str, Any]] = {}
    for mod in response.get("VolumesModifications", []):
        vid = mod.get("VolumeId")
        if vid in ids and (vid not in latest or _started(mod) > _started(latest[vid])):
            latest[vid] = mod
    return latest


def _started(mod: dict[str, Any]) -> datetime:
    start = mod.get("StartTime")
    return start.astimezone(UTC) if isinstance(start, datetime) else datetime.min.replace(tzinfo=UTC)


def modification_text(mod: dict[str, Any] | None) -> str:
    if not mod:
        return "-"
    state, progress = mod.get("ModificationState", "?"), mod.get("Progress")
    sizes = f"{mod.get('OriginalSize')}→{mod.get('TargetSize')} GiB" if mod.get("TargetSize") else ""
    return f"{state} {progress}% {sizes}".strip() if progress is not None else f"{state} {sizes}".strip()


def _volume_row(volume: dict[str, Any], mod: dict[str, Any] | None) -> list[str]:
    attached = ", ".join(f"{a.get('InstanceId')}:{a.get('Device')}" for a in volume.get("Attachments") or [])
    return [
        volume["VolumeId"],
        tag_value(volume.get("Tags")),
        f"{volume.get('Size')} GiB",
        volume.get("VolumeType", ""),
        str(volume.get("Iops", "-")),
        volume.get("State", ""),
        attached or "-",
        modification_text(mod),
    ]


# Names under which EC2 attaches a root volume: partitioned (the guide's `growpart /dev/xvda 1`).
_ROOT_DISKS = {"/dev/xvda": "/dev/xvda", "/dev/sda": "/dev/sda", "/dev/sda1": "/dev/sda"}


def resize_advice(volume: dict[str, Any]) -> str:
    """The guide's grow-the-filesystem step for THIS volume, at the device it is attached as: a root disk
    (/dev/xvda, /dev/sda1) has a partition to grow first; a data volume (/dev/xvdf…) usually carries
    its filesystem on the whole device."""
    attachments = volume.get("Attachments") or []
    if not attachments:
        return _(
            "it is not attached: attach it, then grow its filesystem (`resize2fs` for ext4, `xfs_growfs` for XFS)"
        )
    device, instance = (
        str(attachments[0].get("Device") or "?"),
        attachments[0].get("InstanceId") or _("its instance"),
    )
    nitro = _(
        "; on Nitro instances it shows as /dev/nvme…n1, whose serial in `lsblk -o NAME,SERIAL` is the volume id"
    )
    if device in _ROOT_DISKS:
        disk = _ROOT_DISKS[device]
        return _(
            "on {instance}, grow the root disk attached as {device}: `sudo growpart {disk} 1`, then "
            "`sudo resize2fs {disk}1` (ext4) or `sudo xfs_growfs -d /` (XFS){nitro}",
            instance=instance,
            device=device,
            disk=disk,
            nitro=nitro,
        )
    return _(
        "on {instance}, grow the filesystem on {device}: `sudo resize2fs {device}` (ext4) or "
        "`sudo xfs_growfs -d <its mount point>` (XFS); if `lsblk {device}` shows a partition, first "
        "`sudo growpart {device} 1` and grow {device}1{nitro}",
        instance=instance,
        device=device,
        nitro=nitro,
    )


def volume_modification_finding(
    volume_id: str, mod: dict[str, Any], volume: dict[str, Any] | None = None
) -> tuple[Level, str, str | None] | None:
    """What a modify-volume's state means for the on-call engineer (public: unit-tested on its own,
    because moto completes every modification at once)."""
    resize = resize_advice(volume or {"Attachments": [{"Device": "<its device>"}]})
    state, progress = mod.get("ModificationState"), mod.get("Progress", 0)
    sizes = f"{mod.get('OriginalSize')} → {mod.get('TargetSize')} GiB"
    if state == "modifying":
        return (
            Level.WARN,
            _(
                "{volume} is being modified ({sizes}): modifying, {progress}%",
                volume=volume_id,
                sizes=sizes,
                progress=progress,
            ),
            _("wait for 'optimizing', then {resize}", resize=resize),
        )
    if state == "optimizing":
        return (
            Level.OK,
            _(
                "{volume} grown ({sizes}), optimizing {progress}%: the new size is usable — {resize}",
                volume=volume_id,
                sizes=sizes,
                progress=progress,
                resize=resize,
            ),
            None,
        )
    if state == "failed":
        reason = mod.get("StatusMessage") or _("no reason given")
        return (
            Level.CRIT,
            _(
                "{volume}: modification {sizes} failed: {reason}",
                volume=volume_id,
                sizes=sizes,
                reason=reason,
            ),
            _(
                "retry after the 6-hour cooldown: /remediate aws ebs-grow {volume} {size}",
                volume=volume_id,
                size=mod.get("TargetSize"),
            ),
        )
    if state == "completed" and _started(mod) > datetime.now(UTC) - timedelta(days=1):
        return (
            Level.OK,
            _(
                "{volume} grown ({sizes}), completed — if not done yet, {resize}",
                volume=volume_id,
                sizes=sizes,
                resize=resize,
            ),
            None,
        )
    return None


def _volume_findings(report: Report, volume: dict[str, Any], mod: dict[str, Any] | None) -> None:
    vid = volume["VolumeId"]
    if volume.get("State") == "error":
        report.crit(
            _("{volume} is in state error: its data may be unreadable", volume=vid),
            _("restore it from the latest snapshot"),
        )
    finding = volume_modification_finding(vid, mod, volume) if mod else None
    if finding:
        report.add(*finding)
