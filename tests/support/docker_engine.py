"""The test Docker engine (SPEC §9): containers from `warroom-busybox:test` on the socket that
scripts/start-dockerd.sh starts, cleaned up afterwards.

`WARROOM_TEST_DOCKER` overrides the engine URL. When the engine does not answer the tests are
skipped with the command to run, or fail when `CI` is set (CI must not silently skip a real engine).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

ENGINE_URL = os.environ.get("WARROOM_TEST_DOCKER", "unix:///run/warroom-docker.sock")
IMAGE = "warroom-busybox:test"
HOW_TO_START = "run scripts/start-dockerd.sh (it installs docker.io and builds warroom-busybox:test)"

# Planted secrets: none of them may reach a Report.
DB_PASSWORD = "hunter2-docker"
API_TOKEN = "tok_live_9f8e7d6c5b4a39281706"
AWS_KEY = "AKIAQ2W3E4R5T6Y7U8I9"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkb2NrZXItdGVzdCJ9.ZG9ja2VyLXNpZ25hdHVyZS1zZWNyZXQ"
SECRETS = (DB_PASSWORD, API_TOKEN, AWS_KEY, JWT)

_APP_SCRIPT = f"""
echo "INFO  starting ecommerce-app 2.3.1"
echo "INFO  connecting to postgres://app:{DB_PASSWORD}@db:5432/shop"
echo "ERROR database connect failed: Too many connections (1040)" >&2
echo "WARN  upstream said 401 to Authorization: Bearer {JWT}"
echo "ERROR s3 upload failed for key id {AWS_KEY}" >&2
echo '10.0.0.9 - - [14/May/2024:09:55:00 +0000] "POST /api/checkout HTTP/1.1" 502 157'
echo "INFO  ready"
exec sleep 600
"""


def engine_or_skip() -> Any:
    """A docker SDK client on the test engine; skip (or fail under CI) when it is not answering."""
    import docker

    try:
        client = docker.DockerClient(base_url=ENGINE_URL, timeout=10)
        client.ping()
        client.images.get(IMAGE)
    except Exception as exc:
        message = (
            f"Docker test engine not usable at {ENGINE_URL} ({type(exc).__name__}: {exc}); {HOW_TO_START}"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return client


@dataclass
class TestContainers:
    client: Any
    prefix: str = field(default_factory=lambda: f"warroom-test-{uuid.uuid4().hex[:6]}")
    started: list[Any] = field(default_factory=list)

    __test__ = False  # not a test class, despite the name

    def name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def run(self, role: str, command: list[str], **kwargs: Any) -> Any:
        container = self.client.containers.run(
            IMAGE, command, name=self.name(role), detach=True, network_mode="none", **kwargs
        )
        self.started.append(container)
        return container

    def cleanup(self) -> None:
        for container in self.started:
            with contextlib.suppress(Exception):  # already gone: nothing to clean
                container.remove(force=True)


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_fixture_containers(client: Any) -> Iterator[TestContainers]:
    """The incident on Docker: an app with secrets in its logs and env, one killed (137), one unhealthy."""
    box = TestContainers(client)
    try:
        app = box.run(
            "app",
            ["sh", "-c", _APP_SCRIPT],
            environment={
                "DB_PASSWORD": DB_PASSWORD,
                "API_TOKEN": API_TOKEN,
                "APP_ENV": "production",
                "DATABASE_URL": f"postgres://app:{DB_PASSWORD}@db:5432/shop",
            },
            mem_limit="64m",
            labels={"service": "ecommerce-app"},
        )
        killed = box.run("killed", ["sleep", "600"])
        box.run(
            "unhealthy",
            ["sleep", "600"],
            healthcheck={
                "test": ["CMD", "false"],
                "interval": 200_000_000,
                "retries": 1,
                "timeout": 1_000_000_000,
            },
        )
        killed.kill()  # SIGKILL: exit code 137, what the OOM killer leaves behind
        wait_for(lambda: b"ready" in app.logs(), what="the app container's logs")
        wait_for(
            lambda: client.api.inspect_container(killed.id)["State"]["Status"] == "exited", what="exit 137"
        )
        wait_for(
            lambda: (
                (client.api.inspect_container(box.name("unhealthy"))["State"].get("Health") or {}).get(
                    "Status"
                )
                == "unhealthy"
            ),
            what="the unhealthy container",
        )
        yield box
    finally:
        box.cleanup()
