"""Masking secrets in any text that may reach Slack, logs or the audit trail.

Dependency-free and compiled once: every diagnostic's output goes through `mask`, so it must be
cheap. Two rules for key/value pairs on purpose:
- `mask_env` masks every value whose key matches PASS|SECRET|TOKEN|KEY (SPEC §5, literally): an
  environment is exactly where credentials live, and over-masking there costs nothing.
- `mask` (free text) uses a word-aware rule, so engine statistics such as Redis's `evicted_keys:0`
  or `keyspace_hits` stay readable while `DB_PASSWORD=…`, `apiKey: …` and `x-auth-token: …` do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "*****"

_ENV_SECRET_KEY = re.compile(r"PASS|SECRET|TOKEN|KEY", re.IGNORECASE)

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
_URL_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{0,20}://)([^/\s:@]*):([^/\s@]+)@")
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|Digest)(\s+)[A-Za-z0-9\-._~+/]{6,}=*", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}\b")
_VENDOR_TOKEN = re.compile(
    r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,})"
)
_SQL_PASSWORD = re.compile(
    r"(?i)(\bidentified\s+(?:by|with\s+\S+\s+(?:as|by))\s+|\bpassword\s*\(\s*)('[^']*'|\"[^\"]*\")"
)
# key = value, key: value, "key": "value" — the key is judged by `_is_secret_key`.
_PAIR = re.compile(
    r"""(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,63})\1(\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'}\]]+)"""
)
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SECRET_FRAGMENTS = ("password", "passwd", "passphrase", "secret", "token", "credential")
_SECRET_WORDS = {"pass", "pwd", "pw"}
_KEY_ENDINGS = {"key", "apikey", "privatekey", "secretkey", "accesskey", "signingkey"}

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_secret_key(key: str) -> bool:
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words:
        return False
    if any(fragment in word for word in words for fragment in _SECRET_FRAGMENTS):
        return True
    return any(word in _SECRET_WORDS for word in words) or words[-1] in _KEY_ENDINGS


def _mask_pair(match: re.Match[str]) -> str:
    quote, key, sep, value = match.groups()
    if not _is_secret_key(key) or value in ('""', "''"):
        return match.group(0)
    quoted = value[:1] in "\"'"
    return f"{quote}{key}{quote}{sep}{value[0] + MASK + value[0] if quoted else MASK}"


def _mask_pem(match: re.Match[str]) -> str:
    label = match.group(1)
    return f"-----BEGIN {label}-----\n{MASK}\n-----END {label}-----"


def mask(text: str) -> str:
    """The text with credentials replaced by *****; everything else unchanged."""
    if not text:
        return text
    text = _PEM.sub(_mask_pem, text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    text = _JWT.sub(MASK, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _AWS_KEY_ID.sub(MASK, text)
    text = _VENDOR_TOKEN.sub(MASK, text)
    text = _SQL_PASSWORD.sub(lambda m: f"{m.group(1)}'{MASK}'", text)
    return _PAIR.sub(_mask_pair, text)


def mask_env(env: Mapping[str, Any]) -> dict[str, Any]:
    """An environment with every value under a PASS|SECRET|TOKEN|KEY key masked, the rest scanned."""
    masked: dict[str, Any] = {}
    for key, value in env.items():
        if _ENV_SECRET_KEY.search(str(key)) and value not in (None, ""):
            masked[key] = MASK
        else:
            masked[key] = mask(value) if isinstance(value, str) else value
    return masked


def mask_env_pairs(pairs: list[str]) -> list[str]:
    """Docker-style `KEY=value` lines, masked like `mask_env`."""
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if sep and value and _ENV_SECRET_KEY.search(key):
            out.append(f"{key}={MASK}")
        else:
            out.append(mask(pair))
    return out


def mask_data(data: Any) -> Any:
    """Structured data (dicts, lists, strings) masked throughout, with the word-aware key rule."""
    if isinstance(data, str):
        return mask(data)
    if isinstance(data, Mapping):
        return {
            k: (MASK if isinstance(v, str) and v and _is_secret_key(str(k)) else mask_data(v))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [mask_data(item) for item in data]
    return data


def strip_ansi(text: str) -> str:
    """Terminal colours and control characters removed; carriage returns become line breaks."""
    if not text:
        return text
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)
