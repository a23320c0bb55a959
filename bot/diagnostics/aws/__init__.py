"""`/diag aws`: EC2 state and status checks, EBS volumes and their modifications, CloudWatch statistics.

Read-only Describe*/Get* calls through boto3, one client per target and service, built on first
use (boto3 is slow to import, the bot must start fast). The guide's disk section grows an EBS volume
by hand (`aws ec2 modify-volume`, then `resize2fs`): `ebs` shows how far such a change has got.
"""

from __future__ import annotations

from bot.diagnostics.aws.client import IAM_ACTIONS, MAX_IDS, aws, load_library, tag_value
from bot.diagnostics.aws.cloudwatch import cloudwatch, validate_cloudwatch
from bot.diagnostics.aws.disk import disk, validate_disk
from bot.diagnostics.aws.ebs import (
    describe_modifications,
    describe_volumes,
    ebs,
    modification_text,
    resize_advice,
    validate_ebs,
)
from bot.diagnostics.aws.ec2 import ec2, validate_ec2
from bot.diagnostics.aws.logs import suspicious, validate_log_group
from bot.diagnostics.base import Adapter, Check, masked
from bot.i18n import N_

ADAPTER = Adapter(
        name="aws",
        summary=N_("AWS: EC2 status checks, EBS volumes and modifications, disk use per instance, CloudWatch metrics (read-only)"),
        target_kind="aws",
        default_check="ec2",
        load=load_library,
        checks={
            "ec2": Check("ec2", masked(ec2), N_("instance state and status checks, impaired flagged"),
                         usage="[instance-id…] [name=<Name tag>]", guide="aws ec2 describe-instance-status",
                         max_args=MAX_IDS, options=("name",), validate=validate_ec2),
            "ebs": Check("ebs", masked(ebs), N_("EBS volumes and modify-volume progress"),
                         usage="[volume-id…]", guide="aws ec2 describe-volumes-modifications",
                         max_args=MAX_IDS, options=(), validate=validate_ebs),
            "disk": Check("disk", masked(disk), N_("disk use per instance and mount point (CloudWatch agent), full ones flagged"),
                          usage="<instance-id…> [minutes=15]", guide="df -h", min_args=1, max_args=MAX_IDS,
                          options=("minutes",), validate=validate_disk),
            "suspicious": Check("suspicious", masked(suspicious),
                                N_("access logs (ALB/nginx) in CloudWatch Logs: requests and 4xx/5xx per IP, injection and probe counts"),
                                usage="<log-group> [tail=1000] [since=1h]", guide="grep access.log | cut -d' ' -f1 | sort | uniq -c",
                                min_args=1, max_args=1, options=("tail", "since"), validate=validate_log_group),
            "cloudwatch": Check("cloudwatch", masked(cloudwatch), N_("metric statistics over the last minutes"),
                                usage="<namespace> <metric> [Name=Value…] [period=300] [minutes=60] [stat=Average]",
                                guide="aws cloudwatch get-metric-statistics", min_args=2,
                                options=None,  # lowercase dimension names arrive as options
                                validate=validate_cloudwatch),
        },
    )  # fmt: skip

# The public face: what remediation (ebs-grow) and the deploy docs use, besides the adapter itself.
__all__ = [
    "ADAPTER",
    "IAM_ACTIONS",
    "aws",
    "describe_modifications",
    "describe_volumes",
    "modification_text",
    "resize_advice",
    "tag_value",
    "validate_ebs",
]
