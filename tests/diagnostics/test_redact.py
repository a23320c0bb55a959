"""Secrets never reach Slack: every pattern of SPEC §5, and what must stay readable."""

from __future__ import annotations

import time

import pytest

from bot.security import MASK, mask, mask_data, mask_env, mask_env_pairs, strip_ansi

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("DB_PASSWORD=hunter2 started", "hunter2"),
        ("JWT_SECRET_KEY: s3cr3t-value", "s3cr3t-value"),
        ('{"apiKey": "k-123456"}', "k-123456"),
        ("x-auth-token: abcdef123456", "abcdef123456"),
        ("connecting to mysql://app:p4ss@db:3306/orders", "p4ss"),
        ("redis://:redispw@cache:6379/0", "redispw"),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        (f"token={JWT}", JWT),
        (f"cookie {JWT} end", JWT),
        ("aws key AKIAIOSFODNN7EXAMPLE in log", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQ truncated output", "MIIEvQ"),
        ("CREATE USER app IDENTIFIED BY 'pw-of-app'", "pw-of-app"),
        ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = mask(text)
    assert secret not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "evicted_keys:0\nkeyspace_hits:120\nexpired_keys:3",
        "Key_reads 12  Key_writes 3",
        "connections 12 of max_connections 151 (8 %)",
        "https://api.shop.test/health?page=2",
        "SELECT SLEEP(6)",
    ],
)
def test_ordinary_output_stays_readable(text: str) -> None:
    assert mask(text) == text


def test_env_masks_every_key_the_spec_names() -> None:
    env = {
        "DB_PASSWORD": "a",
        "JWT_SECRET_KEY": "b",
        "GITHUB_TOKEN": "c",
        "API_KEY": "d",
        "keyspace": "e",
        "HOME": "/root",
    }
    assert mask_env(env) == {
        "DB_PASSWORD": MASK,
        "JWT_SECRET_KEY": MASK,
        "GITHUB_TOKEN": MASK,
        "API_KEY": MASK,
        "keyspace": MASK,  # the literal rule: KEY anywhere in an env key
        "HOME": "/root",
    }
    assert mask_env({"DATABASE_URL": "mysql://u:pw@db/x"}) == {"DATABASE_URL": f"mysql://u:{MASK}@db/x"}


def test_env_pairs_and_nested_data() -> None:
    assert mask_env_pairs(["PATH=/bin", "REDIS_PASSWORD=x", "EMPTY_TOKEN="]) == [
        "PATH=/bin",
        f"REDIS_PASSWORD={MASK}",
        "EMPTY_TOKEN=",
    ]
    data = {"password": "x", "evicted_keys": 3, "items": [{"url": "http://a:b@h/"}]}
    assert mask_data(data) == {"password": MASK, "evicted_keys": 3, "items": [{"url": f"http://a:{MASK}@h/"}]}


def test_ansi_and_control_characters_are_stripped() -> None:
    assert strip_ansi("\x1b[31mERROR\x1b[0m done\r\nnext\x07") == "ERROR done\nnext"
    assert strip_ansi("\x1b]8;;http://x\x07link\x1b]8;;\x07") == "link"


def test_masking_is_fast() -> None:
    text = (
        "2026-01-05 09:00:00 INFO request ok user=alice path=/api/orders status=200\n" * 2000
    ) + "DB_PASSWORD=x"
    started = time.perf_counter()
    masked = mask(text)
    assert time.perf_counter() - started < 0.5
    assert masked.endswith(f"DB_PASSWORD={MASK}")
