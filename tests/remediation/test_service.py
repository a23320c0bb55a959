"""The flows without Slack: parsing, exactly-once confirmation under concurrent clicks on SQLite and
PostgreSQL, the bot's own MySQL connection, and the adapter helpers remediation builds on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from bot.app import build_runtime
from bot.config.policy import Policy
from bot.config.settings import Settings
from bot.diagnostics.base import UsageError
from bot.remediation import flows as service
from bot.remediation.actions import mysql as mysql_action
from bot.remediation.actions.base import Refused
from bot.runtime import Runtime
from tests.support.k8s_api import FakeKubeAPI


def _policy(kubeconfig: Path | None = None, **extra: object) -> Policy:
    k8s = (
        {"kubeconfig": str(kubeconfig), "context": "test", "namespaces": ["ecommerce"]}
        if kubeconfig
        else None
    )
    data: dict = {
        "targets": {
            "k8s": {"prod": k8s or {"namespaces": ["ecommerce"]}, "staging": {"namespaces": ["ecommerce"]}},
            "mysql": {"orders": {"url": "mysql+pymysql://root@127.0.0.1:3306/test"}},
        },
        "roles": {"remediators": ["U0CAROL"]},
    }
    data.update(extra)
    return Policy.model_validate(data)


def test_grammar_targets_and_usage() -> None:
    policy = _policy()
    request = service.parse(policy, "k8s prod scale deploy/ecommerce-app 3 ns=ecommerce")
    assert isinstance(request, service.Request)
    assert (request.action, request.target, request.args, request.options) == (
        "k8s.scale", "prod", ["deploy/ecommerce-app", "3"], {"ns": "ecommerce"}
    )  # fmt: skip
    assert request.text == "k8s prod scale deploy/ecommerce-app 3 ns=ecommerce"
    assert service.parse(policy, "mysql kill 42").target == "orders"  # type: ignore[union-attr]
    for text, expected in [
        (
            "k8s restart x",
            "Which k8s target? Type `/remediate k8s <target> restart …`. Known: `prod`, `staging`.",
        ),
        ("k8s dev restart x", "Unknown k8s target `dev`. Known: `prod`, `staging`."),
        ("postgres orders vacuum", "Unknown remediation kind `postgres`."),
        ("redis orders flushall", "No redis targets configured."),
        ("docker restart web", "No docker targets configured."),
        ("mysql kill 1 2", "Too many arguments (`2`)."),
        ("k8s prod restart x y=1", "does not take `y=`"),
        ("k8s prod restart x ns=Bad", "not a valid Kubernetes namespace"),
        ('mysql kill "1', "Close your quotes"),
    ]:
        with pytest.raises(UsageError) as caught:
            service.parse(policy, text)
        assert expected in str(caught.value), text
    assert isinstance(service.parse(policy, ""), service.Help)


def test_adapter_helpers_remediation_reuses_still_exist() -> None:
    """Remediation reads through the diagnostics adapters' factories and validators: fail loudly here
    (not at 3 a.m.) when one of them is renamed."""
    from bot.diagnostics import aws, docker, k8s, mysql

    needed = {
        k8s: [
            "validate_name",
            "validate_label",
            "namespace_of",
            "read_deployment",
            "apps_api",
            "status_message",
        ],
        docker: ["engine", "validate_container", "container_name", "age_of", "docker_time"],
        aws: [
            "aws",
            "validate_ebs",
            "describe_volumes",
            "describe_modifications",
            "tag_value",
            "modification_text",
        ],
        mysql: ["connect"],
    }
    missing = [
        f"{m.__name__}.{name}" for m, names in needed.items() for name in names if not hasattr(m, name)
    ]
    assert missing == []


def test_the_bots_own_connection_is_never_killed() -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", database="test")
    try:
        with pytest.raises(Refused) as caught:
            mysql_action._read(conn, conn.thread_id(), "orders")
        assert caught.value.code == "own_connection"
    finally:
        conn.close()


@pytest.fixture
def kube() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api


@pytest.fixture
def runtime(db_url: str, kube: FakeKubeAPI, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(database_url=db_url, slack_bot_token="xoxb-test", slack_signing_secret="s3cr3t")
    rt = build_runtime(settings, _policy(kube.write_kubeconfig(tmp_path / "kubeconfig")))
    yield rt
    rt.executor.shutdown(wait=False)
    rt.engine.dispose()


def test_concurrent_confirms_apply_exactly_once(runtime: Runtime, kube: FakeKubeAPI) -> None:
    request = service.parse(runtime.policy, "k8s prod scale ecommerce-app 5")
    assert isinstance(request, service.Request)
    started = service.request(runtime, request, actor="U0ALICE", channel_id="C1")
    assert started.status == "proposed" and started.proposal is not None
    token, results, barrier = started.proposal.token, [], threading.Barrier(6)

    def click() -> None:
        barrier.wait()
        results.append(service.confirm(runtime, token, actor="U0CAROL", channel_id="C1"))

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(d.status for d in results)
    assert statuses == ["applied"] + ["refused"] * 5, [(d.status, d.code, d.message) for d in results]
    assert {d.code for d in results if d.status == "refused"} == {"already_used"}
    assert [w[0] for w in kube.writes] == ["PATCH"]
    # A token from another channel is refused as tampered, even when genuine.
    again = service.request(runtime, service.parse(runtime.policy, "k8s prod scale ecommerce-app 3"),  # type: ignore[arg-type]
                            actor="U0ALICE", channel_id="C1")  # fmt: skip
    assert again.proposal is not None
    moved = service.confirm(runtime, again.proposal.token, actor="U0CAROL", channel_id="C2")
    assert (moved.status, moved.code) == ("refused", "tampered")


def test_without_remediators_nothing_is_proposed(runtime: Runtime, kube: FakeKubeAPI) -> None:
    runtime.policy = runtime.policy.model_copy(update={"roles": Policy().roles})
    request = service.parse(runtime.policy, "k8s prod restart ecommerce-app")
    assert isinstance(request, service.Request)
    started = service.request(runtime, request, actor="U0ALICE", channel_id="C1")
    assert (started.status, started.code) == ("refused", "not_allowed")
    assert "roles.remediators" in started.message
    assert kube.writes == []
