"""The `alerts:` section of the policy (SPEC §10): sources, routes, storms. Part of `Policy`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.config.durations import Duration
from bot.config.strict import Strict
from bot.i18n import _

ALERT_KINDS = ("alertmanager", "grafana", "cloudwatch", "events-v2")
MAX_MATCH_PATTERN = 256  # a policy regex longer than this is refused: alert labels are matched on every POST
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class AlertSource(Strict):
    """One sender of alerts: POST /alerts/<name>."""

    name: str = Field(
        description="Name in the URL: POST /alerts/<name> (lower-case letters, digits, - and _)."
    )
    kind: Literal["alertmanager", "grafana", "cloudwatch", "events-v2"] = Field(
        description="Payload shape: alertmanager | grafana | cloudwatch (SNS) | events-v2 (PagerDuty)."
    )
    token_env: str | None = Field(
        default=None,
        description="Environment variable holding the Bearer token (events-v2: the routing_key). "
        "Required except for cloudwatch, whose SNS messages are authenticated by their signature.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SOURCE_NAME.match(value):
            raise ValueError(
                _("invalid source name {value}: use lower-case letters, digits, - and _", value=repr(value))
            )
        return value

    @field_validator("token_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(_("invalid environment variable name {value}", value=repr(value)))
        return value

    @model_validator(mode="after")
    def _token_needed(self) -> AlertSource:
        if self.kind != "cloudwatch" and not self.token_env:
            raise ValueError(
                _("alert source {name} ({kind}) needs token_env", name=repr(self.name), kind=self.kind)
            )
        return self


class AlertRoute(Strict):
    """Which alerts open incidents, and how. Labels are matched whole (like Alertmanager's matchers)."""

    match: dict[str, str] = Field(
        default_factory=dict, description="Label equality, e.g. {severity: critical}."
    )
    match_re: dict[str, str] = Field(
        default_factory=dict, description="Label regular expressions, anchored at both ends."
    )
    source: str | None = Field(default=None, description="Only alerts from this source (by name).")
    severity: Literal["p0", "p1", "p2", "p3"] = Field(default="p2", description="Severity of the incident.")
    declare: Literal["auto", "propose", "ignore"] = Field(
        default="propose",
        description="auto: open the war room at once; propose: ask in announce_channel; ignore: record only.",
    )
    confirm_within: Duration | None = Field(
        default=None, description="propose only: still unanswered after this long, declare anyway."
    )
    auto_resolve: bool = Field(
        default=False, description="Resolve the incident when the alert group resolves (default: ask)."
    )

    @field_validator("match_re")
    @classmethod
    def _patterns(cls, patterns: dict[str, str]) -> dict[str, str]:
        for label, pattern in patterns.items():
            if len(pattern) > MAX_MATCH_PATTERN:
                raise ValueError(
                    _(
                        "match_re.{label} is longer than {limit} characters",
                        label=label,
                        limit=MAX_MATCH_PATTERN,
                    )
                )
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    _("match_re.{label}: invalid regular expression: {error}", label=label, error=exc)
                ) from exc
        return patterns

    @model_validator(mode="after")
    def _confirm_only_when_proposing(self) -> AlertRoute:
        if self.confirm_within is not None and self.declare != "propose":
            raise ValueError(_("confirm_within applies to declare: propose only"))
        return self


class AlertsConfig(Strict):
    sources: list[AlertSource] = Field(default_factory=list, description="Senders: POST /alerts/<name>.")
    routes: list[AlertRoute] = Field(default_factory=list, description="First matching route wins.")
    storm_threshold: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="New alert groups a minute from one source before a storm folds them.",
    )
    retention: Duration = Field(
        default=timedelta(days=30),
        description="Applied alert events older than this are deleted (groups and incidents are kept).",
    )
    sns_cert_host: str = Field(
        default=r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$",
        description="Regex of the hosts SNS signing certificates and SubscribeURLs may come from (https only).",
    )

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[AlertSource]) -> list[AlertSource]:
        names = [source.name for source in sources]
        if len(set(names)) != len(names):
            raise ValueError(_("alert source names must be unique, got {names}", names=names))
        return sources

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError(
                _("alerts.retention must be at least 1d (the events explain the incidents they opened)")
            )
        return value

    @field_validator("sns_cert_host")
    @classmethod
    def _host_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(_("invalid sns_cert_host pattern: {error}", error=exc)) from exc
        return value

    @model_validator(mode="after")
    def _route_sources(self) -> AlertsConfig:
        names = {source.name for source in self.sources}
        for position, route in enumerate(self.routes):
            if route.source is not None and route.source not in names:
                raise ValueError(
                    _(
                        "alerts.routes[{position}].source names {source}, not in alerts.sources",
                        position=position,
                        source=repr(route.source),
                    )
                )
        return self

    def source(self, name: str) -> AlertSource | None:
        return next((source for source in self.sources if source.name == name), None)
