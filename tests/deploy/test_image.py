"""deploy/Dockerfile builds, and the container it makes answers /healthz as a non-root user.

No registry can be reached on the test machines, so the image is built on a base made from this
machine's Python by deploy/local_base.py (docs/deploy.md, "Building without a registry"), with
`--network none`: the build must not fetch anything. The container runs with host networking (the
test engine has no bridge) on a free port, SQLite in its data folder, migrations applied at start.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.docker_engine import ENGINE_URL, HOW_TO_START

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-1234567890-0987654321-imagetestTOKEN"
SIGNING_SECRET = "5f1e2d3c4b5a69788796a5b4c3d2e1f0"
BUILD_FILES = (
    "pyproject.toml",
    "README.md",
    "manifest.yml",
    "bot",
    "handlers",
    "deploy/Dockerfile",
    "deploy/image_setup.py",
)

# One xdist worker builds the image once for the whole module.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.xdist_group("docker-image")]


def engine() -> Any:
    import docker

    try:
        client = docker.DockerClient(base_url=ENGINE_URL, timeout=600)
        client.ping()
    except Exception as exc:
        message = f"Docker engine not answering at {ENGINE_URL} ({type(exc).__name__}); {HOW_TO_START}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return client


def local_base() -> Any:
    spec = importlib.util.spec_from_file_location("local_base", ROOT / "deploy" / "local_base.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_context(target: Path) -> Path:
    """Only what the Dockerfile copies: the legacy builder would send the whole checkout (.venv…)."""
    for name in BUILD_FILES:
        source, dest = ROOT / name, target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, dest)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    client = engine()
    started = time.monotonic()
    base = local_base().build(ENGINE_URL)
    tag = f"warroom:test-{uuid.uuid4().hex[:8]}"
    context = build_context(tmp_path_factory.mktemp("context"))
    try:
        client.images.build(
            path=str(context),
            dockerfile="deploy/Dockerfile",
            tag=tag,
            buildargs={"BASE": base},
            network_mode="none",  # nothing may be downloaded during the build
            rm=True,
            forcerm=True,
        )
    except Exception as exc:  # the build log is the useful part of a failure
        log = "".join(chunk.get("stream", "") for chunk in getattr(exc, "build_log", []) or [])
        pytest.fail(f"docker build failed: {exc}\n{log[-4000:]}")
    print(f"\nbase {base}; image {tag} built in {time.monotonic() - started:.0f} s")
    try:
        yield client, tag
    finally:
        with contextlib.suppress(Exception):  # every build step is a full copy on vfs: free the disk
            client.images.remove(tag, force=True)
            client.images.prune(filters={"dangling": True})


@pytest.fixture(scope="module")
def container(image: tuple[Any, str]) -> Iterator[tuple[Any, int]]:
    client, tag = image
    port = free_port()
    box = client.containers.run(
        tag,
        detach=True,
        name=f"warroom-image-test-{uuid.uuid4().hex[:6]}",
        network_mode="host",  # the test engine runs with --bridge=none
        environment={
            "PORT": str(port),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never called at start
        },
        # The image's HEALTHCHECK command, probed every second instead of every 30 s.
        healthcheck={"interval": 1_000_000_000, "start_period": 1_000_000_000, "retries": 3},
    )
    try:
        # Up to 90 s for the interpreter, the migrations and the server (xdist may load the machine);
        # the tests then assert on what it answers.
        deadline = time.monotonic() + 90
        while get(f"http://127.0.0.1:{port}/healthz")[0] != 200 and time.monotonic() < deadline:
            box.reload()
            if box.status not in ("created", "running"):
                break  # it died: the tests show its logs
            time.sleep(0.5)
        yield box, port
    finally:
        with contextlib.suppress(Exception):
            box.remove(force=True)


def test_container_migrates_and_answers_healthz(container: tuple[Any, int]) -> None:
    box, port = container
    status, body = get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, box.logs().decode()[-3000:]
    assert json.loads(body)["ok"] is True
    # Ready once the database answers and the first escalation tick has completed.
    deadline = time.monotonic() + 30
    status, body = get(f"http://127.0.0.1:{port}/readyz")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = get(f"http://127.0.0.1:{port}/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"]["database"] is True  # the migrated SQLite database
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and b'warroom_incidents_open{severity="p1"} 0.0' in body


def test_docker_healthcheck_reports_healthy(container: tuple[Any, int]) -> None:
    box, _ = container
    deadline = time.monotonic() + 60
    health = ""
    while time.monotonic() < deadline:
        box.reload()
        health = box.attrs["State"].get("Health", {}).get("Status", "")
        if health == "healthy":
            break
        time.sleep(0.5)
    assert health == "healthy", box.attrs["State"].get("Health")


def test_runs_as_non_root_with_the_manifest_packaged(container: tuple[Any, int]) -> None:
    box, _ = container
    assert box.attrs["Config"]["User"] == "10001:10001"
    code, out = box.exec_run(["python", "-c", "import os; print(os.getuid(), os.getgid())"])
    assert code == 0 and out.decode().split() == ["10001", "10001"]
    code, out = box.exec_run(["warroom", "manifest", "--socket-mode"])
    assert code == 0 and b"socket_mode_enabled: true" in out


def test_the_devkit_stays_out_of_the_image(container: tuple[Any, int]) -> None:
    box, _ = container
    probe = "import importlib.util as u; print(u.find_spec('devkit'), u.find_spec('bot.slack_emulator'))"
    code, out = box.exec_run(["python", "-c", probe])
    assert code == 0 and out.decode().split() == ["None", "None"], out.decode()


def test_logs_are_json_lines_without_secrets(container: tuple[Any, int]) -> None:
    box, port = container
    get(f"http://127.0.0.1:{port}/healthz")
    text = box.logs().decode()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"event", "level", "timestamp"} <= set(record), line
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
