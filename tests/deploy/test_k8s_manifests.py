"""deploy/k8s parses, and agrees with the code: ports, probes, paths, env, Secret keys, policy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config.loader import load_policy_text
from bot.config.settings import Settings
from tests.deploy.kustomize import K8S, ROOT, build, containers, find, one

DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()


def deployment() -> dict:
    return one(build(), "Deployment", "warroom")


def container() -> dict:
    (only,) = containers(deployment())
    return only


def env() -> dict[str, dict]:
    return {item["name"]: item for item in container()["env"]}


def test_every_file_parses_and_every_object_is_named() -> None:
    for path in sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "kind" in doc and doc["kind"] not in ("Kustomization", "Component"):
                assert doc["apiVersion"] and doc["metadata"]["name"], path
    kinds = {doc["kind"] for doc in build()}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount", "ClusterRole", "RoleBinding"} <= kinds
    assert "Secret" not in kinds, "secrets are created by the operator, never committed"


def test_two_replicas_with_probes_on_the_real_endpoints_and_resources() -> None:
    spec = deployment()["spec"]
    assert spec["replicas"] == 2
    c = container()
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"]["port"] == c["ports"][0]["name"]
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    source = (ROOT / "bot" / "http.py").read_text()
    for path in ("/healthz", "/readyz", "/metrics", "/slack/events"):
        assert f'"{path}"' in source, path


def test_runs_as_the_images_non_root_user_read_only() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"USER {pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}" in DOCKERFILE
    assert pod["serviceAccountName"] == "warroom"
    security = container()["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]


def test_port_agrees_with_settings_service_and_prometheus() -> None:
    port = container()["ports"][0]["containerPort"]
    assert env()["PORT"]["value"] == str(port) == str(Settings.model_fields["port"].default)
    service = one(build(), "Service", "warroom")
    assert service["spec"]["ports"][0]["targetPort"] == container()["ports"][0]["name"]
    assert service["spec"]["selector"] == deployment()["spec"]["selector"]["matchLabels"]
    annotations = deployment()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
    assert f"EXPOSE {port}" in DOCKERFILE


def test_secrets_come_from_the_secret_and_match_the_example() -> None:
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    variables = env()
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATABASE_URL"):
        ref = variables[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == example["metadata"]["name"]
        assert ref["key"] in example["stringData"], ref["key"]
        assert name.lower() in Settings.model_fields  # a variable the bot actually reads
    assert variables["SLACK_APP_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert "postgresql" in example["stringData"]["database-url"]


def test_the_policy_configmap_is_mounted_where_warroom_config_points_and_loads() -> None:
    config_path = Path(env()["WARROOM_CONFIG"]["value"])
    pod = deployment()["spec"]["template"]["spec"]
    mount = next(m for m in container()["volumeMounts"] if m["mountPath"] == str(config_path.parent))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    configmap = one(build(), "ConfigMap", volume["configMap"]["name"])
    text = configmap["data"][config_path.name]
    policy = load_policy_text(text, source="deploy/k8s/policy.yml")
    assert policy.targets.k8s, "the shipped policy should show the in-cluster k8s target"
    assert all(target.kubeconfig is None for target in policy.targets.k8s.values())


def test_remediation_can_be_left_out() -> None:
    spec = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert spec["components"] == ["remediation"]
    without = {(d["kind"], d["metadata"]["name"]) for d in build(components=False)}
    with_it = {(d["kind"], d["metadata"]["name"]) for d in build()}
    assert with_it - without == {
        ("ClusterRole", "warroom-remediation"),
        ("RoleBinding", "warroom-remediation"),
    }


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
def test_kubectl_kustomize_builds_the_same_objects(tmp_path: Path) -> None:
    """The real kustomize agrees with the reading the other tests use (names modulo generator hash)."""
    done = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    real = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    generated = {d["metadata"]["name"] for d in find(real, "ConfigMap")}
    (policy_map,) = generated
    assert policy_map.startswith("warroom-policy-")  # hashed: a policy edit rolls the pods

    def names(docs: list[dict]) -> set[tuple[str, str]]:
        unhashed = {policy_map: "warroom-policy"}
        return {(d["kind"], unhashed.get(d["metadata"]["name"], d["metadata"]["name"])) for d in docs}

    assert names(real) == names(build())
    deployment_real = one(real, "Deployment", "warroom")
    volumes = deployment_real["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("configMap", {}).get("name") == policy_map for v in volumes)
    assert containers(deployment_real)[0]["image"] == container()["image"]
