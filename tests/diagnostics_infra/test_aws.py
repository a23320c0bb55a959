"""`/diag aws` against moto in server mode: boto3 over HTTP with endpoint_url, as in production."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.config.policy import Policy
from bot.diagnostics.aws.ebs import resize_advice, volume_modification_finding
from bot.diagnostics.aws.ec2 import instance_findings
from bot.diagnostics.base import Level, Outcome, Report, UsageError
from bot.diagnostics.grammar import parse
from bot.diagnostics.runner import run_check
from tests.support.moto_server import moto_server

REGION = "us-east-1"


@dataclass
class World:
    url: str
    web: list[str]
    worker: str
    grown: str
    plain: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    import boto3

    with moto_server() as url:
        ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=url)

        def launch(name: str, count: int) -> list[str]:
            response = ec2.run_instances(
                ImageId="ami-12c6146b",
                MinCount=count,
                MaxCount=count,
                InstanceType="t3.large",
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
            )
            return [i["InstanceId"] for i in response["Instances"]]

        web = launch("ecommerce-web", 2)
        (worker,) = launch("ecommerce-worker", 1)
        ec2.stop_instances(InstanceIds=[worker])
        grown = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=50, VolumeType="gp3")["VolumeId"]
        plain = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=20, VolumeType="gp3")["VolumeId"]
        ec2.attach_volume(VolumeId=grown, InstanceId=web[0], Device="/dev/xvdf")
        ec2.modify_volume(VolumeId=grown, Size=100)  # the guide's `aws ec2 modify-volume … --size 100`
        cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=url)
        now = datetime.now(UTC)
        cloudwatch.put_metric_data(
            Namespace="AWS/EC2",
            MetricData=[
                {
                    "MetricName": "CPUUtilization",
                    "Dimensions": [{"Name": "InstanceId", "Value": web[0]}],
                    "Timestamp": now - timedelta(minutes=ago),
                    "Value": value,
                    "Unit": "Percent",
                }
                for ago, value in [(16, 35.0), (11, 40.0), (6, 88.0), (1, 96.5)]
            ],
        )
        # The CloudWatch agent's disk plugin: one series per filesystem, the last point is the latest.
        for instance, path, device, values in [
            (web[0], "/", "nvme0n1p1", [70.0, 93.4]),
            (web[0], "/data", "nvme1n1", [55.0, 55.2]),
            (web[1], "/", "nvme0n1p1", [79.0, 82.0]),
            (web[1], "/old", "nvme2n1", [40.0, 41.0]),  # its points are 40 and 30 minutes old
        ]:
            cloudwatch.put_metric_data(
                Namespace="CWAgent",
                MetricData=[
                    {
                        "MetricName": "disk_used_percent",
                        "Dimensions": [{"Name": "InstanceId", "Value": instance}, {"Name": "path", "Value": path},
                                       {"Name": "device", "Value": device}, {"Name": "fstype", "Value": "xfs"}],
                        "Timestamp": now - timedelta(minutes=ago),
                        "Value": value,
                        "Unit": "Percent",
                    }
                    for ago, value in zip((40, 30) if path == "/old" else (6, 1), values, strict=True)
                ],
            )  # fmt: skip
        yield World(url, web, worker, grown, plain)


@pytest.fixture(scope="module")
def policy(world: World) -> Policy:
    return Policy.model_validate(
        {"targets": {"aws": {"main": {"region": REGION, "endpoint_url": world.url}}}}
    )


def run(policy: Policy, check: str, *args: str, **options: str):
    return run_check(policy, "aws", check, "main", list(args), options, timeout=10)


# ------------------------------------------------------------------------------------------- ec2
def test_ec2_states_and_status_checks(policy: Policy, world: World) -> None:
    result = run(policy, "ec2")
    assert result.outcome is Outcome.WARN
    (stopped,) = result.findings
    assert f"{world.worker} (ecommerce-worker) is stopped" in stopped.message
    for iid in world.web:
        assert result.data["instances"][iid] == {"state": "running", "system": "ok", "instance": "ok"}
    assert "ecommerce-web" in result.detail and "t3.large" in result.detail


def test_ec2_by_id_and_by_name(policy: Policy, world: World) -> None:
    result = run(policy, "ec2", world.web[1])
    assert result.outcome is Outcome.OK and list(result.data["instances"]) == [world.web[1]]
    assert "1 instances running, all status checks passed" in result.findings[0].message
    result = run(policy, "ec2", name="ecommerce-web")
    assert sorted(result.data["instances"]) == sorted(world.web)


def test_ec2_unknown_instance_is_a_usage_error(policy: Policy) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run(policy, "ec2", "i-0123456789abcdef0")


def test_impaired_status_checks_are_critical() -> None:
    """moto cannot impair an instance, so the rule is checked on the API's own response shape."""
    report = Report()
    instance = {"InstanceId": "i-0123456789abcdef0", "State": {"Name": "running"}, "Tags": []}
    status = {
        "SystemStatus": {"Status": "impaired", "Details": [{"Name": "reachability", "Status": "failed"}]},
        "InstanceStatus": {"Status": "impaired", "Details": [{"Name": "reachability", "Status": "failed"}]},
        "Events": [
            {"Code": "system-reboot", "Description": "scheduled reboot", "NotBefore": datetime.now(UTC)}
        ],
    }
    instance_findings(report, instance, status)
    levels = [f.level for f in report.findings]
    assert levels == [Level.CRIT, Level.CRIT, Level.WARN]
    assert "system status check failed (impaired)" in report.findings[0].message
    assert "stop and start" in report.findings[0].fix
    assert "scheduled system-reboot" in report.findings[2].message


# ------------------------------------------------------------------------------------------- ebs
def test_ebs_shows_modification_progress(policy: Policy, world: World) -> None:
    result = run(policy, "ebs", world.grown, world.plain)
    assert result.data["volumes"][world.grown] == {
        "size": 100, "state": "in-use", "modification": "completed", "progress": 100
    }  # fmt: skip
    assert result.data["volumes"][world.plain]["modification"] is None
    grown = next(f for f in result.findings if world.grown in f.message)
    assert "(50 → 100 GiB), completed" in grown.message
    # The advice names the device the volume is attached as, not the root disk of some other volume.
    assert f"on {world.web[0]}, grow the filesystem on /dev/xvdf: `sudo resize2fs /dev/xvdf`" in grown.message
    assert "/dev/xvda" not in grown.message
    assert f"{world.web[0]}:/dev/xvdf" in result.detail and "completed 100% 50→100 GiB" in result.detail


def test_ebs_lists_all_volumes(policy: Policy, world: World) -> None:
    result = run(policy, "ebs")
    assert {world.grown, world.plain} <= set(result.data["volumes"])


@pytest.mark.parametrize(
    ("state", "level", "words"),
    [
        ("modifying", Level.WARN, "modifying, 10%"),
        ("optimizing", Level.OK, "optimizing 10%: the new size is usable"),
        ("failed", Level.CRIT, "failed: volume too busy"),
    ],
)
def test_modification_states(state: str, level: Level, words: str) -> None:
    mod = {"ModificationState": state, "Progress": 10, "OriginalSize": 50, "TargetSize": 100,
           "StatusMessage": "volume too busy", "StartTime": datetime.now(UTC)}  # fmt: skip
    found = volume_modification_finding("vol-0123456789abcdef0", mod)
    assert found is not None and found[0] is level and words in found[1]


@pytest.mark.parametrize(
    ("device", "words"),
    [
        (
            "/dev/xvda",
            "root disk attached as /dev/xvda: `sudo growpart /dev/xvda 1`, then `sudo resize2fs /dev/xvda1`",
        ),
        (
            "/dev/sda1",
            "root disk attached as /dev/sda1: `sudo growpart /dev/sda 1`, then `sudo resize2fs /dev/sda1`",
        ),
        ("/dev/sdg", "grow the filesystem on /dev/sdg: `sudo resize2fs /dev/sdg`"),
    ],
)
def test_resize_advice_follows_the_attachment(device: str, words: str) -> None:
    volume = {"VolumeId": "vol-1", "Attachments": [{"InstanceId": "i-0abc", "Device": device}]}
    assert words in resize_advice(volume)


# ------------------------------------------------------------------------------------ cloudwatch
def test_cloudwatch_cpu_near_full_is_critical(policy: Policy, world: World) -> None:
    result = run(
        policy, "cloudwatch", "AWS/EC2", "CPUUtilization", f"InstanceId={world.web[0]}", minutes="30"
    )
    assert result.outcome is Outcome.CRIT
    finding = result.findings[0]
    assert "Average 96.5 Percent (latest), min 35, max 96.5 over the last 30 min" in finding.message
    assert "扩容实例" in finding.fix
    assert result.data["values"] == [35.0, 40.0, 88.0, 96.5]
    assert len(result.detail.splitlines()) == 5


def test_cloudwatch_maximum_and_period(policy: Policy, world: World) -> None:
    result = run(policy, "cloudwatch", "AWS/EC2", "CPUUtilization", f"InstanceId={world.web[0]}",
                 period="3600", minutes="120", stat="maximum")  # fmt: skip
    assert max(result.data["values"]) == 96.5 and result.data["stat"] == "Maximum"


def test_cloudwatch_without_datapoints_says_how_to_look(policy: Policy, world: World) -> None:
    result = run(policy, "cloudwatch", "AWS/EC2", "CPUUtilization", f"InstanceId={world.web[1]}")
    assert result.outcome is Outcome.WARN
    assert "no datapoints" in result.findings[0].message and "list-metrics" in result.findings[0].fix


def test_disk_per_instance_flags_full_filesystems_with_the_guides_fix(policy: Policy, world: World) -> None:
    result = run(policy, "disk", world.web[0], world.web[1])
    assert result.outcome is Outcome.CRIT
    by_level = {(f.level, f.message) for f in result.findings}
    assert (Level.CRIT, f"{world.web[0]} /: 93% used (nvme0n1p1)") in by_level
    assert (Level.WARN, f"{world.web[1]} /: 82% used (nvme0n1p1)") in by_level
    assert not any("/data" in f.message for f in result.findings)  # 55 % is fine
    full = [f for f in result.findings if "% used" in f.message]
    assert len(full) == 2 and all("journalctl --vacuum-time" in f.fix and "ebs-grow" in f.fix for f in full)
    assert result.data["disk_percent"] == {
        world.web[0]: {"/": 93.4, "/data": 55.2},
        world.web[1]: {"/": 82.0},
    }
    assert len(result.detail.splitlines()) == 5  # header + four filesystems


def test_disk_of_an_instance_without_the_agent_says_what_to_install(policy: Policy, world: World) -> None:
    result = run(policy, "disk", world.worker)
    assert result.outcome is Outcome.WARN
    assert "no `disk_used_percent`" in result.findings[0].message
    assert "CloudWatch agent" in result.findings[0].fix


def test_disk_with_points_older_than_the_window_says_the_agent_stopped(policy: Policy, world: World) -> None:
    result = run(policy, "disk", world.web[1])
    stale = [f for f in result.findings if "/old" in f.message]
    assert [f.message for f in stale] == [f"{world.web[1]} /old: no datapoint in the last 15 min"]
    assert "amazon-cloudwatch-agent-ctl" in stale[0].fix
    assert result.data["disk_percent"] == {world.web[1]: {"/": 82.0}}
    assert run(policy, "disk", world.web[1], minutes="60").data["disk_percent"][world.web[1]]["/old"] == 41.0


@pytest.mark.parametrize(
    "text",
    [
        "aws disk",
        "aws disk i-xyz",
        "aws disk i-0123456789abcdef0 minutes=0",
        "aws disk i-0123456789abcdef0 minutes=x",
        "aws ec2 i-xyz",
        "aws ec2 ../../etc",
        "aws ebs vol-ZZZZ",
        "aws ebs i-0123456789abcdef0",
        "aws cloudwatch AWS/EC2",
        "aws cloudwatch AWS/EC2 CPU;rm period=45",
        "aws cloudwatch AWS/EC2 CPUUtilization period=45",
        "aws cloudwatch AWS/EC2 CPUUtilization period=60 minutes=2000",
        "aws cloudwatch AWS/EC2 CPUUtilization stat=median",
        "aws cloudwatch AWS/EC2 CPUUtilization InstanceId=",
    ],
)
def test_bad_input_is_refused_offline(policy: Policy, text: str) -> None:
    with pytest.raises(UsageError):
        parse(policy, text)


# -------------------------------------------------------------------------------- failure modes
def test_silent_endpoint_times_out(monkeypatch) -> None:
    # Credentials of its own: without them boto3 fails before it ever reaches the silent endpoint.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        policy = Policy.model_validate(
            {"targets": {"aws": {"slow": {"region": REGION, "endpoint_url": url}}}}
        )
        started = time.monotonic()
        result = run_check(policy, "aws", "ec2", "slow", [], {}, timeout=1)
        assert result.outcome is Outcome.TIMEOUT and time.monotonic() - started < 3


def test_unreachable_endpoint_is_an_error(world: World) -> None:
    policy = Policy.model_validate(
        {"targets": {"aws": {"gone": {"region": REGION, "endpoint_url": "http://127.0.0.1:9"}}}}
    )
    result = run_check(policy, "aws", "ebs", "gone", [], {}, timeout=5)
    assert result.outcome is Outcome.ERROR and "Can't reach AWS" in result.error


def test_adapter_loads_without_boto3() -> None:
    code = "import sys, bot.diagnostics.aws, bot.diagnostics.docker; print('boto3' in sys.modules, 'docker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
