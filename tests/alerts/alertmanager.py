"""A real Alertmanager (Debian's prometheus-alertmanager) for the tests: own config, ports and storage.

`--cluster.listen-address=` turns gossip off, so parallel tests never find each other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.escalation.processes import free_port

BINARY = "prometheus-alertmanager"

CONFIG = """
route:
  receiver: warroom
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: warroom
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def available() -> bool:
    return shutil.which(BINARY) is not None


class Alertmanager:
    def __init__(self, tmp: Path, webhook_url: str, token: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp / "alertmanager.yml"
        config.write_text(CONFIG.format(url=webhook_url, token=token))
        (tmp / "am-data").mkdir(exist_ok=True)
        self.log_path = tmp / "alertmanager.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # fixed arguments, no user text
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={tmp / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> Alertmanager:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"alertmanager not ready: {self.log()}")

    def fire(
        self,
        labels: dict[str, str],
        annotations: dict[str, str],
        *,
        resolve: bool = False,
        starts: datetime | None = None,
    ) -> None:
        """POST /api/v2/alerts, the way Prometheus hands alerts over."""
        now = datetime.now(UTC)
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": annotations,
            "startsAt": (starts or now - timedelta(seconds=5)).isoformat(),
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up%3D%3D0",
        }
        if resolve:
            alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps([alert]).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert reply.status == 200, reply.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]
