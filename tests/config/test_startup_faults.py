"""Careless policy files and a missing database, met by the real `warroom run` and `warroom doctor`.

Each bad file must end in a second or two with one short message naming the file and exit code 2,
never a traceback or a hang; an unreachable database is a line per attempt and a wait, not a crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.config.loader import PolicyError, load_policy
from devkit.slack_emulator import SlackEmulator
from tests.escalation.processes import free_port
from tests.support.tcp_proxy import TcpProxy, reserve_port

SECRET = "0123456789abcdef0123456789abcdef"
ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

BAD_FILES = {
    "alias-bomb.yml": (ALIAS_BOMB.encode(), "expands to more than"),
    "latin1.yml": ("announce_channel: C0ÄNNOUNCE\n".encode("latin-1"), "not UTF-8"),
    "deep-flow.yml": (b"escalation: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
    "deep-block.yml": (b"- " * 5000 + b"x\n", "nested more than"),
    "zero-timeout.yml": (
        b"diagnostics:\n  timeout: 0s\n",
        "diagnostics.timeout (line 2): must be longer than 0s",
    ),
    "bad-cidr.yml": (b"diagnostics:\n  allow_networks: [not-a-cidr]\n", "invalid network 'not-a-cidr'"),
    "zero-ttl.yml": (b"remediation:\n  confirm_ttl: 0s\n", "remediation.confirm_ttl (line 2)"),
    "scale.yml": (b"remediation:\n  scale: {min: 10, max: 2}\n", "min (10) is larger than max (2)"),
}


def _warroom() -> list[str]:
    exe = shutil.which("warroom", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "bot.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "WARROOM_")) and k != "DATABASE_URL"
    }
    return {**env, "WARROOM_LOG_FORMAT": "text", **extra}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_policy_files_are_one_message_naming_the_file(tmp_path: Path, name: str, sqlite_url: str) -> None:
    content, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    # A bomb or a deep nest used to hang for minutes; a loaded CI machine may take a second.
    assert time.perf_counter() - started < 5.0
    assert expected in str(caught.value)
    env = _env(
        WARROOM_CONFIG=str(path),
        DATABASE_URL=sqlite_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    # doctor reads the file the same way; once per kind of structural failure is enough.
    verbs = ("run", "doctor") if name in ("alias-bomb.yml", "latin1.yml", "deep-flow.yml") else ("run",)
    for verb in verbs:
        started = time.monotonic()
        done = subprocess.run([*_warroom(), verb], env=env, capture_output=True, text=True, timeout=60)
        output = done.stdout + done.stderr
        assert done.returncode == 2 if verb == "run" else done.returncode != 0, output
        assert str(path) in output and expected.split(" (line")[0] in output, output
        assert "Traceback" not in output, output
        assert time.monotonic() - started < 20  # a process start; the policy part is the second above
        if verb == "run":
            assert len(output.strip().splitlines()) <= 3, output


def test_unreachable_database_is_waited_for_with_backoff(tmp_path: Path, pg_url: str) -> None:
    reserved = reserve_port()  # bound, not listening: refused until the proxy opens it
    port = reserved.getsockname()[1]
    database = pg_url.rsplit("/", 1)[1]  # this test's own database: the shared one may hold anything
    url = f"postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:{port}/{database}"
    config = tmp_path / "policy.yml"
    config.write_text("")
    http_port = free_port()
    log_path = tmp_path / "run.log"
    with SlackEmulator() as emu, log_path.open("wb") as log:
        env = _env(
            WARROOM_CONFIG=str(config),
            DATABASE_URL=url,
            SLACK_BOT_TOKEN=emu.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=emu.api_url,
            PORT=str(http_port),
        )
        process = subprocess.Popen(
            [*_warroom(), "run", "--host", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        proxy = None
        try:
            deadline = time.monotonic() + 30
            while log_path.read_text().count("unreachable") < 3 and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
            text = log_path.read_text()
            lines = [line for line in text.splitlines() if "unreachable" in line]
            assert len(lines) >= 3, text
            assert f"127.0.0.1:{port}" in lines[0] and "s3cret-pw" not in text, text
            assert (
                "retrying in 1s" in lines[0] and "retrying in 2s" in lines[1] and "retrying in 4s" in lines[2]
            )
            assert "Traceback" not in text
            proxy = TcpProxy(("127.0.0.1", 5432), reserved=reserved)  # the database comes back
            deadline = time.monotonic() + 30
            healthy = False
            while time.monotonic() < deadline and not healthy:
                assert process.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1) as reply:
                        healthy = reply.status == 200
                except OSError:
                    time.sleep(0.2)
            assert healthy, log_path.read_text()
            assert "is answering; starting" in log_path.read_text()
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.wait(15)
            if proxy is not None:
                proxy.close()


def test_sigterm_while_waiting_for_the_database_exits_at_once(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres:pw@127.0.0.1:{free_port()}/test"
    env = _env(
        DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, PORT=str(free_port())
    )
    process = subprocess.Popen(
        [*_warroom(), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 20
        seen = ""
        assert process.stdout is not None
        while "unreachable" not in seen and time.monotonic() < deadline:
            seen += process.stdout.readline()
        assert "unreachable" in seen
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
