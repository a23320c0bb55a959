"""`remediation.bounds`: the limits of the second-round remediations (issue 13), with safe defaults.

Kept apart from policy.py (the size limit); the models are part of the policy file all the same.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from bot.config.durations import Duration
from bot.config.strict import Strict


class Range(Strict):
    min: int = Field(ge=0, description="Smallest value allowed.")
    max: int = Field(ge=0, description="Largest value allowed.")


class RemediationBounds(Strict):
    """Limits of the second-round remediations; the defaults are safe, so none must be written first."""

    mysql_max_connections: Range = Field(
        default_factory=lambda: Range(min=50, max=5000),
        description="Values `mysql set max_connections` may set.",
    )
    kill_idle_older_s: int = Field(
        default=60,
        ge=0,
        description="Youngest idle age (s) `mysql kill-idle` may kill (older= may not go below).",
    )
    kill_idle_max: int = Field(
        default=500, ge=1, description="Most connections one `mysql kill-idle` may close."
    )
    redis_maxmemory_mib: Range = Field(
        default_factory=lambda: Range(min=64, max=65536),
        description="Values (MiB) `redis set maxmemory` may set.",
    )
    block_min_prefix_v4: int = Field(
        default=16, ge=0, le=32, description="Widest IPv4 prefix `aws block-ip` may block (/16 by default)."
    )
    block_min_prefix_v6: int = Field(
        default=48, ge=0, le=128, description="Widest IPv6 prefix `aws block-ip` may block."
    )
    nacl_rules: Range = Field(
        default_factory=lambda: Range(min=1, max=99),
        description="Rule numbers `aws block-ip` may use in a network ACL (below the allow rules).",
    )
    prune_until: Duration = Field(
        default=timedelta(hours=1), description="`docker prune` removes only what is older than this."
    )
    rollback_max_age: Duration = Field(
        default=timedelta(days=90), description="Oldest ReplicaSet revision `k8s rollback` may return to."
    )
    rollout_watch: Duration = Field(
        default=timedelta(seconds=90),
        le=timedelta(seconds=90),
        description="How long `k8s rotate-secret` watches the rollout it started before reporting it unfinished "
        "(at most 90s).",
    )
