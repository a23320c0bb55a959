"""Keeping secrets out of Slack, logs and the audit trail."""

from bot.security.redact import MASK, mask, mask_data, mask_env, mask_env_pairs, strip_ansi

__all__ = ["MASK", "mask", "mask_data", "mask_env", "mask_env_pairs", "strip_ansi"]
