"""The YAML policy schema (SPEC §2, §4, §5, §6, §7): pydantic models, unknown keys rejected.

Defaults come from the ops guide: the P0–P3 table, the three-tier escalation path
(on-call 15 min → tech lead 30 min → director 1 h) and the 3-day review deadline.
The README's configuration reference is generated from these models, so every field
carries a description.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config.alerts import AlertsConfig
from bot.config.bounds import RemediationBounds
from bot.config.durations import Duration
from bot.config.paging import Contact, PagingConfig, Rotation
from bot.config.reports import ReportsConfig
from bot.config.response import ResponseSteps, StatusReminders
from bot.config.security import (
    DEFAULT_INCIDENT_TYPES,
    ExternalContact,
    IncidentType,
    ReviewConfig,
    check_type_names,
)
from bot.config.strict import Strict
from bot.i18n import _

SEVERITY_KEYS = ("p0", "p1", "p2", "p3")
_TARGET = re.compile(r"^(?:[UW][A-Z0-9]{2,}|S[A-Z0-9]{2,}|rotation:[A-Za-z0-9_.-]+)$")
_USER_OR_GROUP = re.compile(r"^[UWS][A-Z0-9]{2,}$")


class SeverityPolicy(Strict):
    label: str = Field(description="Short label shown beside the severity, e.g. '紧急 critical'.")
    meaning: str = Field(default="", description="What this severity means, for the help text.")
    response: Duration = Field(description="Response target: acknowledge within this long.")
    escalation: str | None = Field(
        default=None, description="Name of an entry of `escalation_policies` to use instead of `escalation`."
    )


class SeverityOverride(Strict):
    label: str | None = Field(default=None, description="Replaces the default label.")
    meaning: str | None = Field(default=None, description="Replaces the default meaning.")
    response: Duration | None = Field(default=None, description="Replaces the default response target.")
    escalation: str | None = Field(default=None, description="Named escalation policy for this severity.")


DEFAULT_SEVERITIES: dict[str, SeverityPolicy] = {
    "p0": SeverityPolicy(
        label="紧急 critical", meaning="service completely down", response=timedelta(minutes=15)
    ),
    "p1": SeverityPolicy(label="严重 major", meaning="core function affected", response=timedelta(hours=1)),
    "p2": SeverityPolicy(label="中等 moderate", meaning="partial malfunction", response=timedelta(hours=4)),
    "p3": SeverityPolicy(
        label="轻微 minor", meaning="degraded performance, non-critical", response=timedelta(days=1)
    ),
}


def _check_targets(targets: list[str]) -> list[str]:
    for target in targets:
        if not _TARGET.match(target):
            raise ValueError(
                _(
                    "invalid target {target}: use a Slack user id (U…), a user-group id (S…) or rotation:<name>",
                    target=repr(target),
                )
            )
    return targets


class Tier(Strict):
    name: str = Field(description="Tier name, e.g. tier1 (一线 on-call engineer).")
    targets: list[str] = Field(
        default_factory=list, description="Slack user ids (U…), user-group ids (S…) or rotation:<name>."
    )
    timeout: Duration = Field(description="Wait this long after paging this tier before paging the next.")

    _targets = field_validator("targets")(classmethod(lambda cls, v: _check_targets(v)))

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError(_("a tier timeout must be longer than 0s"))
        return value


class EscalationPolicy(Strict):
    repeat: int = Field(default=0, ge=0, le=20, description="How many times to loop over the tiers.")
    tiers: list[Tier] = Field(description="Tiers paged in order while nobody acknowledges.")

    @field_validator("tiers")
    @classmethod
    def _some_tiers(cls, tiers: list[Tier]) -> list[Tier]:
        if not tiers:
            raise ValueError(_("an escalation policy needs at least one tier"))
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            raise ValueError(_("tier names must be unique, got {names}", names=names))
        return tiers


DEFAULT_ESCALATION = EscalationPolicy(
    repeat=0,
    tiers=[
        Tier(name="tier1", targets=[], timeout=timedelta(minutes=15)),
        Tier(name="tier2", targets=[], timeout=timedelta(minutes=30)),
        Tier(name="tier3", targets=[], timeout=timedelta(hours=1)),
    ],
)


class K8sTarget(Strict):
    kubeconfig: str | None = Field(
        default=None, description="Path of a kubeconfig; default in-cluster config."
    )
    context: str | None = Field(default=None, description="kubeconfig context to use.")
    namespaces: list[str] = Field(default_factory=lambda: ["default"], description="Namespaces it may read.")


class DockerTarget(Strict):
    url: str = Field(default="unix:///var/run/docker.sock", description="Docker engine URL.")


class MySQLTarget(Strict):
    url: str = Field(description="SQLAlchemy URL, e.g. mysql+pymysql://diag@mysql:3306/ (password via env).")
    password_env: str | None = Field(default=None, description="Environment variable holding the password.")


class RedisTarget(Strict):
    url: str = Field(description="redis:// URL.")
    password_env: str | None = Field(default=None, description="Environment variable holding the password.")


class WafIpSet(Strict):
    name: str = Field(description="Name of the WAFv2 IP set `aws block-ip` adds to.")
    id: str = Field(description="Id of the WAFv2 IP set.")
    scope: Literal["REGIONAL", "CLOUDFRONT"] = Field(default="REGIONAL", description="WAFv2 scope.")


class AWSTarget(Strict):
    region: str = Field(description="AWS region, e.g. us-east-1.")
    waf_ip_set: WafIpSet | None = Field(
        default=None, description="The WAFv2 IP set (a deny rule's) that `aws block-ip` adds CIDRs to."
    )
    network_acl: str | None = Field(
        default=None,
        description="Network ACL id (acl-…) `aws block-ip` adds deny entries to, without a WAF IP set.",
    )
    profile: str | None = Field(default=None, description="Named profile from the shared credentials file.")
    endpoint_url: str | None = Field(
        default=None, description="Override of the AWS endpoint (tests, LocalStack)."
    )


class PromTarget(Strict):
    url: str = Field(description="Prometheus base URL, e.g. http://prometheus:9090.")
    token_env: str | None = Field(default=None, description="Environment variable holding a bearer token.")


class Targets(Strict):
    k8s: dict[str, K8sTarget] = Field(default_factory=dict, description="Kubernetes clusters by name.")
    docker: dict[str, DockerTarget] = Field(default_factory=dict, description="Docker engines by name.")
    mysql: dict[str, MySQLTarget] = Field(default_factory=dict, description="MySQL/MariaDB servers by name.")
    redis: dict[str, RedisTarget] = Field(default_factory=dict, description="Redis servers by name.")
    aws: dict[str, AWSTarget] = Field(default_factory=dict, description="AWS accounts/regions by name.")
    prom: dict[str, PromTarget] = Field(default_factory=dict, description="Prometheus servers by name.")


class Service(Strict):
    """What `/diag triage <service>` checks for one service."""

    k8s: str | None = Field(default=None, description="Name of the `targets.k8s` cluster.")
    namespace: str | None = Field(default=None, description="Kubernetes namespace.")
    deployment: str | None = Field(default=None, description="Kubernetes deployment name.")
    docker: str | None = Field(default=None, description="Name of the `targets.docker` engine.")
    container: str | None = Field(default=None, description="Docker container name.")
    health_url: str | None = Field(default=None, description="Health URL, e.g. http://api/health.")
    database: str | None = Field(default=None, description="Name of the `targets.mysql` server.")
    cache: str | None = Field(default=None, description="Name of the `targets.redis` server.")


def _cidrs(values: list[str]) -> list[str]:

    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                _("invalid network {value}: write a CIDR such as 10.0.0.0/8 or fd00::/8", value=repr(value))
            ) from None
    return values


class RateLimit(Strict):
    per_minute: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Most `/diag` and `/remediate` commands one person may run per minute.",
    )


class DiagnosticsConfig(Strict):
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per-call timeout of a check.")
    triage_timeout: Duration = Field(
        default=timedelta(seconds=20), description="Total time bound of a triage."
    )
    allow_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs that http/tcp/tls may reach although they are link-local, metadata or in "
        "`deny_networks` (an explicit exception wins).",
    )
    deny_networks: list[str] = Field(
        default_factory=list,
        description="Further CIDRs that http/tcp/tls/dns may not reach, e.g. loopback and private ranges "
        "(link-local and cloud metadata are always denied). Hosts of `services.*.health_url` stay reachable.",
    )
    allow_users: list[str] = Field(
        default_factory=list,
        description="Who may run `/diag` and `/remediate`: user ids (U…) and user-group ids (S…); empty = everyone.",
    )
    allow_channels: list[str] = Field(
        default_factory=list,
        description="Channel ids (C…/G…) where `/diag` and `/remediate` may run, besides incident war rooms; "
        "empty = everywhere.",
    )
    rate_limit: RateLimit = Field(
        default_factory=RateLimit,
        description="Per-person limit, shared by every replica (kept in the database).",
    )

    @field_validator("timeout", "triage_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError(_("must be longer than 0s, e.g. 10s"))
        return value

    @field_validator("allow_networks", "deny_networks")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        return _cidrs(values)

    @field_validator("allow_users")
    @classmethod
    def _users(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _USER_OR_GROUP.match(value):
                raise ValueError(
                    _("invalid id {value}: use a Slack user id (U…) or user-group id (S…)", value=repr(value))
                )
        return values

    @field_validator("allow_channels")
    @classmethod
    def _channels(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^[CGD][A-Z0-9]{2,}$", value):
                raise ValueError(
                    _("invalid channel id {value}: use a Slack channel id (C…, G…)", value=repr(value))
                )
        return values


class ScaleBounds(Strict):
    min: int = Field(default=0, ge=0, description="Fewest replicas `/remediate k8s scale` may set.")
    max: int = Field(default=20, ge=0, description="Most replicas `/remediate k8s scale` may set.")

    @model_validator(mode="after")
    def _ordered(self) -> ScaleBounds:
        if self.min > self.max:
            raise ValueError(
                _(
                    "min ({min}) is larger than max ({max}): no replica count would do",
                    min=self.min,
                    max=self.max,
                )
            )
        return self


class RemediationConfig(Strict):
    confirm_ttl: Duration = Field(
        default=timedelta(minutes=5), description="How long a confirm button works."
    )
    scale: ScaleBounds = Field(default_factory=ScaleBounds, description="Bounds of `k8s scale`.")
    ebs_max_gib: int = Field(default=16384, ge=1, description="Largest size `aws ebs-grow` may request.")
    bounds: RemediationBounds = Field(
        default_factory=RemediationBounds, description="Bounds of the other remediations."
    )


class Roles(Strict):
    remediators: list[str] = Field(
        default_factory=list,
        description="User ids (U…) and user-group ids (S…) who may confirm a remediation.",
    )
    incident_managers: list[str] = Field(
        default_factory=list,
        description="User ids (U…) and user-group ids (S…) who, with the incident's commander, may change "
        "severity, commander and resolve; empty: anyone in the incident channel may.",
    )

    @field_validator("remediators", "incident_managers")
    @classmethod
    def _ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _USER_OR_GROUP.match(value):
                raise ValueError(
                    _("invalid id {value}: use a Slack user id (U…) or user-group id (S…)", value=repr(value))
                )
        return values


class PostmortemConfig(Strict):
    review_within: Duration = Field(default=timedelta(days=3), description="Review deadline after resolve.")
    remind_every: Duration = Field(default=timedelta(days=1), description="Reminder period once overdue.")
    on_resolve: bool = Field(default=True, description="Draft the postmortem automatically on resolve.")


class Policy(Strict):
    """The whole policy file. Every key is optional; the defaults are the guide's."""

    severities: dict[Literal["p0", "p1", "p2", "p3"], SeverityOverride] = Field(
        default_factory=dict, description="Overrides of the P0–P3 table."
    )
    escalation: EscalationPolicy = Field(
        default=DEFAULT_ESCALATION, description="The default escalation policy."
    )
    escalation_policies: dict[str, EscalationPolicy] = Field(
        default_factory=dict, description="Further named policies a severity may choose."
    )
    rotations: dict[str, Rotation] = Field(default_factory=dict, description="On-call rotations by name.")
    contacts: dict[str, Contact] = Field(
        default_factory=dict, description="Extra paging channels by user id."
    )
    paging: PagingConfig = Field(default_factory=PagingConfig, description="SMS / e-mail / webhook paging.")
    announce_channel: str | None = Field(
        default=None, description="Channel id where declarations are announced."
    )
    language: Literal["en", "zh"] = Field(
        default="en",
        description="Language of everything the bot says (a person's Slack locale may override it for them): en or zh.",
    )
    incident_roles: list[str] = Field(
        default_factory=lambda: ["commander", "comms", "scribe", "ops"],
        description="Roles `/incident <role> @user` can assign.",
    )
    services: dict[str, Service] = Field(default_factory=dict, description="Services for `/diag triage`.")
    targets: Targets = Field(default_factory=Targets, description="Diagnostics targets by kind and name.")
    diagnostics: DiagnosticsConfig = Field(
        default_factory=DiagnosticsConfig, description="Diagnostics limits."
    )
    roles: Roles = Field(default_factory=Roles, description="Who may do what.")
    remediation: RemediationConfig = Field(
        default_factory=RemediationConfig, description="Remediation limits."
    )
    postmortem: PostmortemConfig = Field(
        default_factory=PostmortemConfig, description="Postmortem and review."
    )
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig, description="Alerts in from monitoring (POST /alerts/<source>)."
    )
    incident_types: dict[str, IncidentType] = Field(
        default_factory=lambda: dict(DEFAULT_INCIDENT_TYPES),
        description="Kinds of incident, `/incident <type> p1 <title>`; default: security (private, key-leak checklist).",
    )
    external_contacts: list[ExternalContact] = Field(
        default_factory=list, description="External support lines shown by `/incident contacts`."
    )
    reviews: ReviewConfig = Field(
        default_factory=ReviewConfig, description="Contact freshness checks and the policy review reminder."
    )
    reports: ReportsConfig = Field(default_factory=ReportsConfig, description="The weekly report.")
    response_steps: ResponseSteps = Field(
        default_factory=ResponseSteps,
        description="The guide's response steps and their budgets from the declaration; a step over budget is nudged once.",
    )
    status_reminders: StatusReminders = Field(
        default_factory=StatusReminders,
        description="Per severity: remind the commander after this long without a status update.",
    )

    @model_validator(mode="after")
    def _references(self) -> Policy:
        policies = {"default", *self.escalation_policies}
        for key, override in self.severities.items():
            if override.escalation and override.escalation not in policies:
                raise ValueError(
                    _(
                        "severities.{key}.escalation names {name}, which is not in escalation_policies ({known})",
                        key=key,
                        name=repr(override.escalation),
                        known=", ".join(sorted(policies)),
                    )
                )
        for policy in [self.escalation, *self.escalation_policies.values()]:
            for tier in policy.tiers:
                for target in tier.targets:
                    name = target.removeprefix("rotation:")
                    if target.startswith("rotation:") and name not in self.rotations:
                        raise ValueError(
                            _(
                                "tier {tier} names rotation {name}, which is not in rotations",
                                tier=tier.name,
                                name=repr(name),
                            )
                        )
        check_type_names(self.incident_types, policies)
        if "commander" not in self.incident_roles:
            raise ValueError(_("incident_roles must include commander"))
        return self

    def severity(self, key: str) -> SeverityPolicy:
        """The effective severity policy: the guide's default with this file's overrides."""
        base = DEFAULT_SEVERITIES[key]
        override = self.severities.get(key)  # type: ignore[call-overload]
        if override is None:
            return base
        # Field values, not model_dump(): Duration's serializer would turn `response` into "15m".
        return base.model_copy(update={name: value for name, value in override if value is not None})

    def escalation_for(self, severity: str) -> EscalationPolicy:
        name = self.severity(severity).escalation
        if name and name != "default":
            return self.escalation_policies[name]
        return self.escalation
