"""Outputs that tell the truth, each against a real engine set up to provoke the wrong answer:
MySQL counters since start (a private MariaDB whose limit was really hit), an intermittently slow
Redis (a proxy that holds one PING back), TLS against a plain-HTTP port, an HTTP timeout's fix.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from bot.diagnostics import runner, triage
from bot.diagnostics.base import Level, Outcome
from tests.diagnostics.conftest import free_port, make_policy


# ------------------------------------------------------------------------------------- MySQL
@pytest.fixture
def private_mariadb(tmp_path: Path) -> Iterator[int]:
    """A MariaDB of this test's own with max_connections=10 (its minimum), so hitting the limit on
    purpose disturbs nobody; the shared server's counters cannot be set."""
    install = shutil.which("mariadb-install-db")
    if install is None or not Path("/usr/sbin/mariadbd").exists():
        pytest.fail("MariaDB server binaries are missing: run `bash scripts/start-services.sh`")
    data = tmp_path / "data"
    subprocess.run(
        [install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
         "--skip-test-db", "--user=root"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={tmp_path / 'sock'}",
         f"--port={port}", "--bind-address=127.0.0.1", "--max-connections=10", "--user=root",
         "--skip-log-bin", "--innodb-buffer-pool-size=8M", f"--log-error={tmp_path / 'error.log'}",
         f"--pid-file={tmp_path / 'pid'}"],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                pymysql.connect(host="127.0.0.1", port=port, user="root").close()
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        root = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
        with root.cursor() as cursor:  # an application user: without SUPER it gets no extra connection
            cursor.execute("CREATE USER 'app'@'%'")
            cursor.execute("GRANT SELECT ON *.* TO 'app'@'%'")
        root.close()
        yield port
    finally:
        server.terminate()
        server.wait(30)


def test_mysql_counters_since_start_are_history_and_triage_is_green(private_mariadb: int) -> None:
    port = private_mariadb
    held, refused = [], 0
    for _ in range(13):  # 10 fit; the rest are refused with 1040, as in the incident
        try:
            held.append(pymysql.connect(host="127.0.0.1", port=port, user="app"))
        except pymysql.err.OperationalError as exc:
            assert exc.args[0] == 1040
            refused += 1
    assert refused >= 3
    for conn in held:
        conn.close()
    one = pymysql.connect(host="127.0.0.1", port=port, user="app")  # the incident is over: one connection
    policy = make_policy(
        targets={"mysql": {"shop": {"url": f"mysql+pymysql://root@127.0.0.1:{port}/"}}},
        services={"shop": {"database": "shop"}},
    )
    try:
        result = triage.run(policy, "shop")
    finally:
        one.close()
    assert result.outcome is Outcome.OK, [(f.level, f.message) for f in result.findings]
    messages = [f.message for f in result.findings]
    history = next(m for m in messages if "History since the server started" in m)
    assert "the peak reached the limit (11 ≥ max_connections 10)" in history  # root's extra one
    assert history.startswith("Database: History since the server started ") and " ago: " in history
    # MariaDB counts these refusals in Aborted_connects, not Connection_errors_max_connections (MySQL does).
    assert all(f.level is Level.OK for f in result.findings)


# ------------------------------------------------------------------------------------- Redis
class SlowPingProxy:
    """A TCP proxy to the real Redis that holds back the answer to the `slow`-th PING (counting the
    warm-up) by `delay` seconds: a Redis that is fast most of the time and stalls now and then."""

    def __init__(self, upstream: tuple[str, int], slow: int, delay: float) -> None:
        self.upstream, self.slow, self.delay = upstream, slow, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.pings = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and b"PING" in data.upper():
                    self.pings += data.upper().count(b"PING")
                    if self.pings == self.slow:
                        time.sleep(self.delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()


def test_an_intermittently_slow_redis_is_flagged_by_its_worst_ping() -> None:
    proxy = SlowPingProxy(("127.0.0.1", 6379), slow=3, delay=0.3)
    try:
        policy = make_policy(targets={"redis": {"cache": {"url": f"redis://127.0.0.1:{proxy.port}/0"}}})
        result = runner.run_check(policy, "redis", "ping", "cache")
    finally:
        proxy.close()
    finding = result.findings[0]
    assert finding.level is Level.WARN, finding
    assert (
        finding.message.startswith("PING intermittently slow: median ") and " of 5 PINGs" in finding.message
    )
    assert result.data["ping_ms_worst"] >= 300 > result.data["ping_ms"]
    assert "检查数据库/Redis连接" in (finding.fix or "")


def test_the_ping_headline_names_median_and_worst() -> None:
    result = runner.run_check(make_policy(), "redis", "ping", "cache")
    message = result.findings[0].message
    # "PONG: …" or, on a host busy enough to stall one PING, "PING intermittently slow: …": both say it.
    assert "median " in message and "worst " in message and "of 5 PINGs" in message
    assert result.data["ping_ms_worst"] >= result.data["ping_ms"]


# -------------------------------------------------------------------------------- TLS, HTTP
def test_tls_against_a_plain_http_port_says_so(http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    result = runner.run_check(make_policy(), "tls", "cert", None, [f"127.0.0.1:{port}"])
    finding = result.findings[0]
    assert result.outcome is Outcome.ERROR
    assert (
        finding.message == f"127.0.0.1:{port} speaks plain HTTP (try `/diag http http://…` instead), not TLS"
    )
    assert "firewall" not in (finding.fix or "") and "TLS port (usually 443)" in (finding.fix or "")


def test_an_http_timeout_says_what_to_check(hanging_server: int) -> None:
    result = runner.run_check(
        make_policy(), "http", "get", None, [f"http://127.0.0.1:{hanging_server}/"], timeout=1.0
    )
    assert result.outcome is Outcome.TIMEOUT
    fix = result.findings[0].fix or ""
    assert "/diag tcp" in fix and "hung or overloaded" in fix and "firewall" in fix


def test_a_closed_port_is_still_refused_not_a_tls_problem() -> None:
    port = free_port()
    result = runner.run_check(make_policy(), "tls", "cert", None, [f"127.0.0.1:{port}"])
    assert result.findings[0].message == f"127.0.0.1:{port}: connection refused"
