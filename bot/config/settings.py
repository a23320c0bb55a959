"""Environment settings: secrets and deployment facts, never policy."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The environment of SPEC §1. Everything is optional here; each command checks what it needs."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///warroom.db"
    warroom_config: str | None = None
    port: int = Field(default=3000, ge=1, le=65535)
    # Seconds between escalation ticks; the spec caps it at 1 s.
    warroom_tick_seconds: float = Field(default=1.0, gt=0, le=1.0)
    warroom_log_format: str = "json"
    # Seconds a Slack Web API call may take before it counts as failed (and is retried).
    slack_timeout_seconds: int = Field(default=15, ge=1, le=120)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and self.slack_app_token.get_secret_value().startswith(
            "xapp-"
        )
