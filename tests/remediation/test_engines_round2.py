"""`/remediate` second round against real engines: MariaDB (a user's idle and running connections,
max_connections), a Redis server of the test's own (maxmemory, client kill), the test Docker engine
(recreate, prune) — through the bot's HTTP endpoint and the Slack emulator, preview → Confirm → result.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from bot.clock import ManualClock
from bot.config.policy import Policy
from bot.db import create_db_engine, migrate
from tests.harness import Harness
from tests.remediation.conftest import CAROL, DAVE, MYSQL_URL, REGION, SRE_GROUP, TTL_SECONDS, Bot
from tests.support.docker_engine import ENGINE_URL, TestContainers, engine_or_skip, wait_for
from tests.support.k8s_api import FakeKubeAPI


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server of this module's own: CLIENT KILL and CONFIG SET must not touch the shared one."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; run scripts/start-services.sh")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    try:
        wait_for(lambda: _pings(client), timeout=10, what="redis-server to start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def bot(
    kube: FakeKubeAPI, aws_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("remediate2")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    clock = ManualClock()
    policy = Policy.model_validate(
        {
            "targets": {
                "k8s": {"prod": {"kubeconfig": str(kube.write_kubeconfig(tmp / "kubeconfig")), "context": "test",
                                 "namespaces": ["ecommerce"]}},
                "docker": {"local": {"url": ENGINE_URL}},
                "aws": {"main": {"region": REGION, "endpoint_url": aws_url}},
                "mysql": {"orders": {"url": MYSQL_URL}},
                "redis": {"cache": {"url": redis_url}},
            },
            "roles": {"remediators": [CAROL, SRE_GROUP]},
            # prune_until 1s: the test's fresh containers are prunable (the default keeps the last hour).
            "remediation": {"confirm_ttl": f"{TTL_SECONDS}s", "bounds": {"prune_until": "1s", "kill_idle_older_s": 1}},
            "diagnostics": {"timeout": "8s"},
        }
    )  # fmt: skip
    with Harness(url, policy=policy, clock=clock) as h:
        h.emulator.add_user("dave", id=DAVE)
        h.emulator.add_usergroup("sre", users=[DAVE], id=SRE_GROUP)
        yield Bot(h, clock, kube, aws_url)


def _confirmed(bot: Bot, text: str) -> tuple[dict[str, Any], str]:
    preview = bot.remediate(text)
    bot.click(preview, CAROL)
    return preview, bot.settled(preview)


# -------------------------------------------------------------------------------------- mysql
@pytest.fixture
def mysql_user() -> Iterator[str]:
    """A MariaDB user of this test only, so kill-idle never reaches another test's connections."""
    name = f"wr_idle_{uuid.uuid4().hex[:8]}"
    root = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with root.cursor() as cursor:
        for host in ("%", "localhost"):
            cursor.execute(f"CREATE USER '{name}'@'{host}' IDENTIFIED BY 'pw-{name}'")
    try:
        yield name
    finally:
        with root.cursor() as cursor:
            for host in ("%", "localhost"):
                cursor.execute(f"DROP USER IF EXISTS '{name}'@'{host}'")
        root.close()


def _connect_as(user: str) -> Any:
    return pymysql.connect(host="127.0.0.1", user=user, password=f"pw-{user}", autocommit=True)


def _alive(pid: int) -> bool:
    probe = pymysql.connect(host="127.0.0.1", user="root")
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s", (pid,))
            return bool(cursor.fetchone()[0])
    finally:
        probe.close()


def test_mysql_kill_idle_closes_sleep_connections_and_never_a_running_query(
    bot: Bot, mysql_user: str
) -> None:
    idle = [_connect_as(mysql_user) for _ in range(3)]
    busy = _connect_as(mysql_user)
    result: list[Any] = []

    def run() -> None:
        with busy.cursor() as cursor:
            cursor.execute("SELECT SLEEP(20)")
            result.append(cursor.fetchone())

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: _command(busy.thread_id()) == "Query", what="the running query")
        time.sleep(
            1.2
        )  # older=1s: the idle ones must have been idle that long (the server counts whole seconds)
        since = bot.last_audit_id()
        preview = bot.remediate(f"mysql kill-idle user={mysql_user} older=1s")
        text = str(preview["text"]) + str(preview["blocks"])
        assert f"Close 3 idle connection(s) of user {mysql_user} on orders" in text
        # Whole numbers only: a thread id may also occur inside the random user name (wr_idle_c5256756).
        shown = set(re.findall(r"(?<!\d)\d+(?!\d)", text))
        assert all(str(c.thread_id()) in shown for c in idle) and str(busy.thread_id()) not in shown
        assert all(_alive(c.thread_id()) for c in idle)  # the preview closed nothing
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert f"Closed 3 idle connection(s) of user {mysql_user} on orders" in settled
        assert not any(_alive(c.thread_id()) for c in idle)
        assert _command(busy.thread_id()) == "Query"  # the running query runs on
        assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
        assert sorted(bot.audit(since)[-1].data["result"]["killed"]) == sorted(c.thread_id() for c in idle)
    finally:
        runner.join(30)
        assert result == [(0,)]  # SLEEP returned normally: it was never interrupted
        for conn in [*idle, busy]:
            with contextlib.suppress(Exception):  # closed by the server: that was the point
                conn.close()


def test_mysql_kill_idle_skips_one_that_got_busy_after_the_preview(bot: Bot, mysql_user: str) -> None:
    first, second = _connect_as(mysql_user), _connect_as(mysql_user)
    time.sleep(1.2)
    preview = bot.remediate(f"mysql kill-idle user={mysql_user} older=1s")
    thread = threading.Thread(target=_sleep_on, args=(second, 3), daemon=True)
    thread.start()  # the second one starts a query between preview and Confirm
    wait_for(lambda: _command(second.thread_id()) == "Query", what="the second query")
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "Closed 1 idle connection(s)" in settled and "busy by then" in settled
    assert not _alive(first.thread_id()) and _alive(second.thread_id())
    thread.join(10)
    second.close()


def test_mysql_kill_idle_bounds_and_nothing_to_do(bot: Bot, mysql_user: str) -> None:
    since = bot.last_audit_id()
    assert "nothing to close" in bot.ask(f"mysql kill-idle user={mysql_user}")
    assert "takes a MySQL user name" in bot.ask("mysql kill-idle user=x;DROP")
    assert "takes a duration" in bot.ask("mysql kill-idle older=soon")
    assert [r.data["reason"] for r in bot.audit(since)][:1] == ["no_change"]


def _command(pid: int) -> str | None:
    probe = pymysql.connect(host="127.0.0.1", user="root")
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = %s", (pid,))
            row = cursor.fetchone()
            return str(row[0]) if row else None
    finally:
        probe.close()


def _sleep_on(conn: Any, seconds: int) -> None:
    with conn.cursor() as cursor:
        cursor.execute("SELECT SLEEP(%s)", (seconds,))


def _max_connections() -> int:
    probe = pymysql.connect(host="127.0.0.1", user="root")
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT @@GLOBAL.max_connections")
            return int(cursor.fetchone()[0])
    finally:
        probe.close()


def test_mysql_set_max_connections_within_bounds(bot: Bot) -> None:
    original = _max_connections()
    wanted = original + 7 if original + 7 <= 5000 else original - 7
    try:
        since = bot.last_audit_id()
        preview = bot.remediate(f"mysql set max_connections {wanted}")
        assert f"max_connections {original} → {wanted}" in preview["text"] + str(preview["blocks"])
        assert _max_connections() == original
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert f"max_connections on orders is now {wanted}" in settled and "my.cnf" in settled
        assert _max_connections() == wanted
        assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
        over = bot.ask("mysql set max_connections 100000")
        assert "Out of bounds" in over and "50 to 5000" in over
        assert "changes `max_connections` only" in bot.ask("mysql set wait_timeout 5")
        assert "whole number" in bot.ask("mysql set max_connections lots")
    finally:
        probe = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        with probe.cursor() as cursor:
            cursor.execute("SET GLOBAL max_connections = %s", (original,))
        probe.close()


# -------------------------------------------------------------------------------------- redis
def test_redis_set_maxmemory_and_its_bounds(bot: Bot, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        since = bot.last_audit_id()
        preview = bot.remediate("redis set maxmemory 256mb")
        assert "maxmemory 0 (no limit) → 256.0 MiB" in preview["text"] + str(preview["blocks"])
        assert client.config_get("maxmemory")["maxmemory"] == "0"
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert "maxmemory on cache is now 256.0 MiB" in settled and "CONFIG REWRITE" in settled
        assert client.config_get("maxmemory")["maxmemory"] == str(256 * 1024**2)
        assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
        assert "Out of bounds" in bot.ask("redis set maxmemory 1mb")
        assert "already 256.0 MiB" in bot.ask("redis set maxmemory 256mb")
        assert "like 512mb" in bot.ask("redis set maxmemory lots")
        assert "`maxmemory` only" in bot.ask("redis set maxclients 5")
    finally:
        client.close()


def test_redis_client_kill_drops_normal_clients_but_not_the_bot(bot: Bot, redis_url: str) -> None:
    import redis

    apps = [redis.Redis.from_url(redis_url, single_connection_client=True) for _ in range(3)]
    for app in apps:
        app.ping()
        app.client_setname("app")
    watcher = redis.Redis.from_url(redis_url)
    try:
        assert "type=normal" in bot.ask("redis client-kill")
        since = bot.last_audit_id()
        preview = bot.remediate("redis client-kill type=normal")
        assert "CLIENT KILL TYPE normal on cache" in preview["text"]
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert "normal client connection(s) on cache" in settled
        names = [c.get("name") for c in watcher.client_list()]
        assert "app" not in names  # the three application connections are gone
        assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
        assert bot.audit(since)[-1].data["result"]["killed"] >= 3
    finally:
        for app in [*apps, watcher]:
            app.close()


# ------------------------------------------------------------------------------------- docker
@pytest.fixture(scope="module")
def containers() -> Iterator[TestContainers]:
    client = engine_or_skip()
    box = TestContainers(client)
    try:
        yield box
    finally:
        box.cleanup()
        client.close()


def test_docker_recreate_makes_a_new_container_with_the_same_name_and_config(
    bot: Bot, containers: TestContainers
) -> None:
    container = containers.run("svc", ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
                               environment={"MODE": "blue"}, labels={"team": "shop"})  # fmt: skip
    api = containers.client.api
    wait_for(lambda: api.inspect_container(container.id)["State"]["Running"], what="the container to run")
    name = containers.name("svc")
    since = bot.last_audit_id()
    preview = bot.remediate(f"docker recreate {name}")
    assert f"Recreate container {name}" in preview["text"]
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert f"Recreated container {name}" in settled
    new = api.inspect_container(name)
    assert new["Id"] != container.id and new["State"]["Running"]
    assert "MODE=blue" in new["Config"]["Env"] and new["Config"]["Labels"]["team"] == "shop"
    assert new["HostConfig"]["NetworkMode"] == "none"
    assert not any(c["Id"] == container.id for c in api.containers(all=True))  # the old one is gone
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    containers.started.append(containers.client.containers.get(new["Id"]))


def test_docker_prune_shows_what_is_reclaimable_then_removes_only_the_labelled(
    bot: Bot, containers: TestContainers
) -> None:
    label = f"warroom.prune={uuid.uuid4().hex[:8]}"
    key, value = label.split("=")
    stopped = containers.run("done", ["true"], labels={key: value})
    running = containers.run("up", ["sleep", "60"], labels={key: value})
    api = containers.client.api
    wait_for(
        lambda: api.inspect_container(stopped.id)["State"]["Status"] == "exited", what="the container to exit"
    )
    time.sleep(2.1)  # older than prune_until (1 s; `until` counts whole seconds)
    since = bot.last_audit_id()
    preview = bot.remediate(f"docker prune label={label}")
    text = str(preview["text"]) + str(preview["blocks"])
    assert "stopped containers 1" in text and containers.name("done") in text and "never pruned" in text
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "Pruned the Docker engine" in settled and "1 removed" in settled
    ids = {c["Id"] for c in api.containers(all=True)}
    assert stopped.id not in ids and running.id in ids
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    assert "takes a label" in bot.ask("docker prune label=$(rm)")


def test_remediate_help_lists_the_new_actions(bot: Bot) -> None:
    text = bot.ask("help")
    for usage in (
        "kill-idle",
        "set max_connections",
        "set maxmemory",
        "client-kill type=normal",
        "recreate",
        "prune",
    ):
        assert usage in text
