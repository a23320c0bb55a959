"""`/diag prom` against Debian's `prometheus` scraping itself: a server of the test's own (own port, own
storage dir) with a 1 s scrape interval, so real series exist within seconds."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.policy import Policy
from bot.diagnostics import grammar, runner
from bot.diagnostics.base import Outcome, UsageError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run scripts/start-services.sh")
    work: Path = tmp_path_factory.mktemp("prometheus")
    port = _free_port()
    config = work / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: self\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while b'"result":[{' not in _get(f"{url}/api/v1/query?query=up"):
            assert proc.poll() is None, "prometheus exited"
            assert time.monotonic() < deadline, "prometheus scraped nothing within 60 s"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bytes(response.read())
    except OSError:
        return b""


@pytest.fixture(scope="module")
def policy(prometheus: str) -> Policy:
    return Policy.model_validate(
        {"targets": {"prom": {"self": {"url": prometheus}}}, "diagnostics": {"timeout": "10s"}}
    )


def _run(policy: Policy, text: str):  # type: ignore[no-untyped-def]
    command = grammar.parse(policy, text)
    return runner.run_check(
        policy, command.adapter, command.check, command.target, command.args, command.options
    )


def test_instant_query_lists_series_and_values(policy: Policy, prometheus: str) -> None:
    result = _run(policy, "prom query up")
    assert result.outcome is Outcome.OK, result.findings
    assert "`up`: 1 series" in result.findings[0].message
    port = prometheus.rsplit(":", 1)[1]
    assert result.data["values"] == {f'up{{instance="127.0.0.1:{port}",job="self"}}': 1.0}
    assert 'job="self"' in result.detail


def test_trend_draws_a_png_with_min_max_last_of_real_samples(policy: Policy) -> None:
    time.sleep(3)  # a few more scrapes: a trend of several points
    result = _run(policy, "prom trend 'process_resident_memory_bytes{job=\"self\"}' since=5m")
    assert result.outcome is Outcome.OK, result.findings
    stats = next(iter(result.data["stats"].values()))
    assert stats["points"] >= 3 and 0 < stats["min"] <= stats["last"] <= stats["max"]
    message = result.findings[0].message
    assert "over 5m: 1 series" in message and "min " in message and "max " in message and "last " in message
    [(name, png)] = result.charts
    assert name == "trend.png" and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert "png" not in str(result.data).lower()  # the image never goes into the audited data


def test_bad_promql_and_empty_results_are_explained(policy: Policy) -> None:
    with pytest.raises(UsageError, match="Prometheus refused the query"):
        _run(policy, "prom query 'sum(('")
    empty = _run(policy, "prom query 'up{job=\"nope\"}'")
    assert empty.outcome is Outcome.WARN and "no series" in empty.findings[0].message
    with pytest.raises(UsageError, match="1m to 7d"):
        grammar.parse(policy, "prom trend up since=10d")


def test_diag_prom_trend_uploads_the_chart_to_the_channel(policy: Policy, tmp_path: Path) -> None:
    from bot.db import create_db_engine, migrate
    from tests.harness import Harness

    url = f"sqlite:///{tmp_path / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    with Harness(url, policy=policy) as h:
        response = h.command("prom trend up since=5m", user=h.alice, channel=h.general, name="/diag")
        assert response.status == 200
        files = h.wait_until(
            lambda: [f for f in h.emulator.uploaded_files(h.general) if f.uploaded], timeout=30
        )
        assert files[0].content.startswith(b"\x89PNG") and files[0].name == "trend.png"
        text = h.wait_until(
            lambda: next(
                (str(m) for m in h.emulator.messages(h.general) if "min " in str(m) and "last " in str(m)),
                None,
            ),
            timeout=30,
        )
        assert "over 5m: 1 series" in text
