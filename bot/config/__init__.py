"""Configuration: environment settings (secrets) and the YAML policy file (behaviour)."""

from bot.config.durations import Duration, format_duration, parse_duration
from bot.config.loader import PolicyError, load_policy, load_policy_text
from bot.config.policy import Policy
from bot.config.settings import Settings

__all__ = [
    "Duration",
    "Policy",
    "PolicyError",
    "Settings",
    "format_duration",
    "load_policy",
    "load_policy_text",
    "parse_duration",
]
