"""`/diag` with `language: zh`: help, refusals, findings and the guide's fixes reach Slack in Chinese,
from the checks' worker threads, with secrets still masked; the audit log keeps what people were shown.

Real parts: signed slash commands over HTTP → Bolt → handler → the Kubernetes API stand-in, MariaDB,
Redis and a local HTTP server → the Slack emulator.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from bot.audit.models import AuditEntry
from bot.db import create_db_engine, migrate
from bot.i18n import set_default_language
from bot.i18n.catalog import LOCALE_DIR
from devkit.slack_emulator import blocks_to_text
from tests.diagnostics.conftest import MYSQL_URL, REDIS_URL
from tests.harness import Harness
from tests.support import docker_engine
from tests.support.docker_engine import ENGINE_URL, TestContainers, engine_or_skip, start_fixture_containers
from tests.support.k8s_api import CRASH_POD, SECRETS, FakeKubeAPI

RUNNING = "正在运行 `/diag"


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One Chinese-speaking bot for the module, reading the k8s stand-in, MariaDB and Redis."""
    tmp = tmp_path_factory.mktemp("diag-zh")
    url = f"sqlite:///{tmp / 'warroom.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    with FakeKubeAPI() as api:
        kubeconfig = api.write_kubeconfig(tmp / "kubeconfig")
        policy = {
            "language": "zh",
            "targets": {
                "k8s": {
                    "prod": {"kubeconfig": str(kubeconfig), "context": "test", "namespaces": ["ecommerce"]}
                },
                "mysql": {"orders": {"url": MYSQL_URL}},
                "redis": {"cache": {"url": REDIS_URL}},
                "docker": {"local": {"url": ENGINE_URL}},
            },
            "services": {"payments": {"k8s": "prod", "namespace": "ecommerce", "deployment": "payments"}},
            "diagnostics": {"timeout": "15s", "triage_timeout": "25s", "rate_limit": {"per_minute": 10_000}},
        }
        from bot.config.policy import Policy

        try:
            with Harness(url, policy=Policy.model_validate(policy)) as harness:
                yield harness
        finally:
            set_default_language("en")  # the process default is global: leave it as other tests expect


def _diag(h: Harness, text: str) -> str:
    """What the channel shows once the bot's "running…" message has been replaced by the result."""
    channel = h.general
    before = len(h.emulator.messages(channel))
    response = h.command(text, name="/diag", channel=channel)
    assert response.status == 200

    def done() -> dict[str, Any] | None:
        messages = h.emulator.messages(channel)
        ours = messages[before] if len(messages) > before else None
        return ours if ours and RUNNING not in (ours.get("text") or "") else None

    message = h.emulator.wait_for(done, timeout=30)
    return blocks_to_text(message.get("blocks"), message.get("text"))


def _ack(h: Harness, text: str) -> str:
    """The ephemeral answer in the ack (plain text, Slack-escaped)."""
    response = h.command(text, name="/diag", channel=h.general)
    assert response.status == 200
    return html.unescape(h.reply(response))


def _last_audit(h: Harness) -> AuditEntry:
    with h.runtime.session() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "diag").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        session.expunge(entry)
        return entry


def test_help_is_chinese_and_keeps_the_command_words(h: Harness) -> None:
    overview = _ack(h, "help")
    assert (
        "只读的运维手册诊断" in overview and "`/diag help <adapter>` 列出一个适配器的检查项和目标" in overview
    )
    assert "• `/diag k8s` — Kubernetes：Pod、日志" in overview  # adapter and check names stay as typed
    k8s = _ack(h, "help k8s")
    assert "`/diag k8s [target] pods [ns=<namespace>] [deployment=<name>]` — Pod 列表" in k8s
    assert "（默认）" in k8s and "目标：prod" in k8s
    assert "Services: " not in _ack(h, "help triage") and "服务：`payments`" in _ack(h, "help triage")


def test_a_mistake_is_answered_in_chinese_in_the_ack(h: Harness) -> None:
    assert "参数过多（`nope`）。请输入 `/diag k8s prod pods" in _ack(h, "k8s prod nope")
    assert "未知的诊断 `kube`。可用的有：`triage`, `k8s`" in _ack(h, "kube pods")
    assert "不是合法的 Kubernetes 命名空间" in _ack(h, "k8s prod pods ns=Bad_NS")
    assert "`tail=` 需要 1 到 2000 之间的行数，而不是 `x`" in _ack(h, "k8s prod logs payments tail=x")


def test_k8s_findings_and_fixes_are_chinese(h: Harness) -> None:
    text = _diag(h, "k8s prod pods")
    crash = next(line for line in text.splitlines() if CRASH_POD in line and "CrashLoopBackOff" in line)
    assert re.search(r"Pod \S+：CrashLoopBackOff，重启 \d+ 次，上次退出 OOMKilled", crash), crash
    assert "重启服务，调整内存限制：查看上一次运行的日志" in text  # the guide's fix, in its own words
    assert "/remediate k8s restart payments" in text  # commands stay as they are typed
    assert "严重 · " in text and "由 @" in text  # outcome and "run by" in the context line
    entry = _last_audit(h)
    # The audit log keeps what people were shown: the findings as rendered in the workspace's language.
    messages = [f["message"] for f in entry.data["findings"]]
    assert any("，重启 " in m for m in messages) and entry.outcome == "crit"


def test_log_findings_are_chinese_and_secrets_stay_masked(h: Harness) -> None:
    text = _diag(h, "k8s prod logs deployment/payments")
    assert "行中有" in text and "行错误" in text and "最新一条：" in text
    assert "查看应用日志，修复代码 bug" in text
    for secret in SECRETS:
        assert secret not in text
    entry = _last_audit(h)
    for secret in SECRETS:
        assert secret not in str(entry.data) and secret not in (entry.detail or "")


def test_triage_card_is_chinese_from_its_parallel_threads(h: Harness) -> None:
    text = _diag(h, "triage payments")
    # Each step ran in a thread of its own: the language in force reached every one of them.
    assert "排查 payments：严重" in text
    assert "Pod：" in text or "*❌ Pod*" in text
    assert "项检查并行" in text and "未配置：" in text and "健康检查 URL（请设置 `health_url`）" in text


def test_every_placeholder_in_the_diagnostics_catalogs_is_spaced_from_chinese_words() -> None:
    """Masking finds AWS keys, JWTs and bearer tokens at a word boundary (\\b); a Chinese character is a
    word character, so a value glued to one (`密钥AKIA…`) would escape the mask. Spaces or punctuation."""
    glued = []
    for area in ("diagnostics", "remediation"):
        path = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{area}.po"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                string = message.string[0] if isinstance(message.string, tuple) else message.string
                for match in re.finditer(r"\{[A-Za-z_]\w*\}", string or ""):
                    before = string[match.start() - 1 : match.start()]
                    after = string[match.end() : match.end() + 1]
                    if re.match(r"[\u3400-\u9fff]", before) or re.match(r"[\u3400-\u9fff]", after):
                        glued.append(f"{area}: {string!r}")
    assert not glued, "\n".join(glued)


@pytest.fixture(scope="module")
def box() -> Iterator[TestContainers]:
    client = engine_or_skip()
    yield from start_fixture_containers(client)
    client.close()


def test_docker_findings_and_fixes_are_chinese(h: Harness, box: TestContainers) -> None:
    text = _diag(h, "docker local ps")
    assert f"容器 {box.name('killed')} 以退出码 137 退出（被 SIGKILL 杀死，通常是 OOM killer）" in text
    assert f"容器 {box.name('unhealthy')} 在运行但不健康" in text
    assert f"重启服务，调整内存限制：/remediate docker restart {box.name('killed')}" in text
    inspect = _diag(h, f"docker local inspect {box.name('app')}")
    logs = _diag(h, f"docker local logs {box.name('app')}")
    assert "行错误 — 最新一条：" in logs or "行中没有错误行" in logs
    for secret in docker_engine.SECRETS:  # env and log lines masked in Chinese output too
        assert secret not in inspect and secret not in logs


def test_mysql_connections_are_chinese(h: Harness) -> None:
    text = _diag(h, "mysql orders connections")
    assert re.search(r"连接数 \d+，max_connections 为 \d+（\d+ %）", text), text
    slow = _diag(h, "mysql orders slowlog")
    assert "慢查询日志" in slow and "自服务器启动以来有 " in slow


def test_redis_status_is_chinese(h: Harness) -> None:
    text = _diag(h, "redis cache status")
    assert "PONG：5 次 PING 中位数 " in text and "客户端 " in text and "命中率" in text


def test_http_status_fix_and_masked_body_are_chinese(h: Harness, http_server: str) -> None:
    text = _diag(h, f"http {http_server}/down")
    assert "HTTP 502 Bad Gateway" in text and "检查应用服务状态，重启服务" in text
    assert "DNS " in text and " · 连接 " in text and " · 首字节 " in text
    broken = _diag(h, f"http {http_server}/broken")
    assert "查看应用日志，修复代码 bug" in broken and "hunter2" not in broken


def test_network_checks_and_refusals_are_chinese(h: Harness, closed_port: int, tls_server: Any) -> None:
    refused = _diag(h, "http http://169.254.169.254/latest/meta-data/iam/")
    assert "已拒绝：169.254.169.254 属于 链路本地地址 / 云元数据 (169.254.0.0/16)" in refused
    assert "`diagnostics.allow_networks`" in refused
    tcp = _diag(h, f"tcp 127.0.0.1:{closed_port}")
    assert f"127.0.0.1:{closed_port}：连接被拒绝（没有服务监听，或被拒绝）" in tcp
    assert "端口连通性检查、防火墙规则检查" in tcp  # the guide's fix, translated at the edge
    port = tls_server[0]
    tls = _diag(h, f"tls localhost:{port}")
    assert "证书" in tls and ("不受信任：" in tls or "受信任" in tls)
