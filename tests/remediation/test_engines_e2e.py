"""`/remediate docker | aws | mysql` end to end against real engines: the test Docker engine, moto in
server mode (boto3 over HTTP) and the machine's MariaDB, through the bot's HTTP endpoint and Slack emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from tests.remediation.conftest import CAROL, REGION, Bot
from tests.support.docker_engine import TestContainers, engine_or_skip, wait_for

# PID 1 of a container ignores SIGTERM unless it traps it: this one stops at once, like a real app.
_TRAPPING = "trap 'exit 0' TERM; echo up; while true; do sleep 1; done"


# ------------------------------------------------------------------------------------ docker
@pytest.fixture(scope="module")
def containers() -> Iterator[TestContainers]:
    client = engine_or_skip()  # skips with the command to run (fails when CI is set)
    box = TestContainers(client)
    try:
        yield box
    finally:
        box.cleanup()
        client.close()


def test_docker_restart_changes_started_at(bot: Bot, containers: TestContainers) -> None:
    container = containers.run("web", ["sh", "-c", _TRAPPING])
    api = containers.client.api
    wait_for(lambda: api.inspect_container(container.id)["State"]["Running"], what="the container to run")
    started_before = api.inspect_container(container.id)["State"]["StartedAt"]
    since = bot.last_audit_id()
    name = containers.name("web")
    preview = bot.remediate(f"docker restart {name}")
    assert f"Restart container {name}" in preview["text"]
    assert api.inspect_container(container.id)["State"]["StartedAt"] == started_before  # preview: no change
    began = time.monotonic()
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert "Done" in settled and f"Restarted container {name}" in settled
    state = api.inspect_container(container.id)["State"]
    assert state["Running"] and state["StartedAt"] != started_before
    assert state["StartedAt"][:19] in settled  # the new start time is shown
    assert time.monotonic() - began < 15
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
    assert bot.audit(since)[-1].data["result"]["started_after"] == state["StartedAt"]


def test_docker_unknown_container_is_answered(bot: Bot, containers: TestContainers) -> None:
    since = bot.last_audit_id()
    assert "Not found" in bot.ask("docker restart warroom-no-such-container")
    assert "is not a container name" in bot.ask("docker restart ../etc")
    assert bot.outcomes(since) == []


# ---------------------------------------------------------------------------------------- aws
@pytest.fixture(scope="module")
def ec2(bot: Bot) -> Any:
    import boto3

    return boto3.client("ec2", region_name=REGION, endpoint_url=bot.aws_url)


def test_ebs_grow_grows_the_volume(bot: Bot, ec2: Any) -> None:
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=50, VolumeType="gp3")["VolumeId"]
    since = bot.last_audit_id()
    preview = bot.remediate(f"aws ebs-grow {volume} 100")
    assert "size" in preview["text"] and "50 GiB → 100 GiB" in preview["text"]
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 50
    bot.click(preview, CAROL)
    settled = bot.settled(preview)
    assert f"Growing EBS volume {volume} to 100 GiB" in settled and "resize2fs" in settled
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 100
    assert bot.outcomes(since) == ["requested", "confirmed", "ok"]


def test_ebs_shrink_and_over_the_limit_are_refused(bot: Bot, ec2: Any) -> None:
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=80, VolumeType="gp3")["VolumeId"]
    since = bot.last_audit_id()
    shrink = bot.ask(f"aws ebs-grow {volume} 20")
    assert "Grow only" in shrink and "already 80 GiB" in shrink and "only grows" in shrink
    assert "Grow only" in bot.ask(f"aws ebs-grow {volume} 80")
    over = bot.ask(f"aws ebs-grow {volume} 1000")
    assert "Out of bounds" in over and "limit of 500 GiB" in over
    assert "not an EBS volume id" in bot.ask("aws ebs-grow vol-nothex 100")
    assert "does not exist" in bot.ask("aws ebs-grow vol-0123456789abcdef0 100")
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Size"] == 80
    refused = [r for r in bot.audit(since) if r.outcome == "refused"]
    assert [r.data["reason"] for r in refused] == ["grow_only", "grow_only", "out_of_bounds"]


# -------------------------------------------------------------------------------------- mysql
class Sleeper:
    """Another client's stuck query: `SELECT SLEEP(60)` on its own connection, in a thread."""

    def __init__(self, sql: str = "SELECT SLEEP(60) /* password=hunter2 */") -> None:
        self.conn = pymysql.connect(host="127.0.0.1", user="root", database="test")
        self.id = self.conn.thread_id()
        self.result: Any = None
        self.finished_after: float | None = None
        self._sql = sql
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        began = time.monotonic()
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(self._sql)
                self.result = cursor.fetchone()
        except pymysql.MySQLError as exc:
            self.result = exc
        self.finished_after = time.monotonic() - began

    def start(self) -> Sleeper:
        self._thread.start()
        probe = pymysql.connect(host="127.0.0.1", user="root")
        try:
            wait_for(lambda: _info(probe, self.id) is not None, what="the query to start")
        finally:
            probe.close()
        return self

    def close(self) -> None:
        self._thread.join(70)
        self.conn.close()


def _info(conn: Any, pid: int) -> Any:
    with conn.cursor() as cursor:
        cursor.execute("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = %s", (pid,))
        row = cursor.fetchone()
        return row[0] if row else None


def test_mysql_kill_interrupts_the_sleep_query(bot: Bot) -> None:
    sleeper = Sleeper().start()
    try:
        since = bot.last_audit_id()
        preview = bot.remediate(f"mysql kill {sleeper.id}")
        text = str(preview["text"]) + str(preview["blocks"])
        assert f"KILL QUERY {sleeper.id} on orders" in text and "SELECT SLEEP(60)" in text and "root@" in text
        assert "hunter2" not in text and "*****" in text  # the query text is masked
        assert sleeper.finished_after is None  # the preview killed nothing
        assert "stopped; the connection stays open" in text  # what KILL QUERY does
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert f"Stopped the query of connection {sleeper.id} on orders (KILL QUERY)" in settled
        assert "the connection stays open" in settled and "connection now Killed" not in settled
        wait_for(lambda: sleeper.finished_after is not None, timeout=10, what="the query to end")
        assert sleeper.finished_after < 30  # interrupted, not finished
        with sleeper.conn.cursor() as cursor:  # and the result told the truth: the connection is open
            cursor.execute("SELECT CONNECTION_ID()")
            assert cursor.fetchone()[0] == sleeper.id
        assert "hunter2" not in settled
        assert bot.outcomes(since) == ["requested", "confirmed", "ok"]
        assert all("hunter2" not in (r.detail + str(r.data)) for r in bot.audit(since))
    finally:
        sleeper.close()


def test_mysql_kill_refuses_idle_unknown_and_non_numeric(bot: Bot) -> None:
    idle = pymysql.connect(host="127.0.0.1", user="root")
    try:
        since = bot.last_audit_id()
        assert "idle (Sleep)" in bot.ask(f"mysql kill {idle.thread_id()}")
        assert "no connection 999999999 in the PROCESSLIST" in bot.ask("mysql kill 999999999")
        assert "whole number" in bot.ask("mysql kill 12;DROP")
        assert [r.data["reason"] for r in bot.audit(since)] == ["no_change", "not_found"]
    finally:
        idle.close()


def test_mysql_kill_refuses_when_the_connection_runs_another_query_by_then(bot: Bot) -> None:
    sleeper = Sleeper().start()
    probe = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    try:
        since = bot.last_audit_id()
        preview = bot.remediate(f"mysql kill {sleeper.id}")
        with probe.cursor() as cursor:  # the previewed query ends by itself (here: someone else's KILL)
            cursor.execute("KILL QUERY %s", (sleeper.id,))
        sleeper._thread.join(10)
        second = threading.Thread(target=_run_on, args=(sleeper.conn, "SELECT SLEEP(30)"), daemon=True)
        second.start()  # …and the same connection runs another query when the Confirm comes
        wait_for(lambda: "SLEEP(30)" in str(_info(probe, sleeper.id)), what="the second query")
        bot.click(preview, CAROL)
        settled = bot.settled(preview)
        assert "runs a different query than the preview showed; nothing was killed" in settled
        assert "SLEEP(30)" in str(_info(probe, sleeper.id))  # still running
        assert bot.outcomes(since) == ["requested", "confirmed", "refused"]
        assert bot.audit(since)[-1].data["reason"] == "changed"
        with probe.cursor() as cursor:
            cursor.execute("KILL QUERY %s", (sleeper.id,))
        second.join(10)
    finally:
        probe.close()
        sleeper.close()


def _run_on(conn: Any, sql: str) -> None:
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    except pymysql.MySQLError:
        pass  # interrupted on purpose
