"""The ServiceAccount's RBAC against the code: neither may have what the other lacks.

What the code uses comes from two sides:
- statically: every Kubernetes client method referenced anywhere in bot/ (diagnostics, remediation,
  doctor), mapped to its verb and REST path through the client library's own request builders;
- dynamically: every /diag k8s check run against the API stand-in, which records the REST paths it
  served (this also resolves the generic custom-object calls, e.g. metrics.k8s.io for `top`).
Reads must equal the rules of deploy/k8s without components; writes must equal what the optional
remediation component adds. Namespaced rules must be bound per namespace of the in-cluster target
of policy.yml, cluster-scoped ones (nodes) cluster-wide.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from bot.config import load_policy
from bot.config.policy import Policy
from bot.diagnostics.k8s import ADAPTER
from bot.diagnostics.runner import run_check
from tests.deploy.kustomize import K8S, ROOT, Doc, build, find
from tests.support.k8s_api import CRASH_POD, FakeKubeAPI

Rule = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)
READ_VERBS = {"get", "list", "watch"}
AMBIGUOUS = ("?", "?")
SERVICE_ACCOUNT = ("warroom", "warroom")  # (namespace, name)

# Arguments for the checks that need some; a new check that needs arguments must be added here.
CHECK_ARGS: dict[str, list[tuple[list[str], dict[str, str]]]] = {
    "logs": [([CRASH_POD], {"previous": "true"}), (["deployment/payments"], {})],
    "rollout": [(["payments"], {})],
    "suspicious": [(["deployment/ecommerce-app"], {})],
}


# ------------------------------------------------------------------------------ REST path → rule
def rule_of(http_method: str, path: str) -> tuple[Rule, bool]:
    """(rule, namespaced) of one request, as the API server's authorizer sees it."""
    parts = path.strip("/").split("/")
    if parts[0] == "api":
        group, rest = "", parts[2:]
    elif parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        raise AssertionError(f"not a resource path: {path}")
    namespaced = len(rest) > 2 and rest[0] == "namespaces"
    if namespaced:
        rest = rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    named = len(rest) > 1
    verb = {
        "GET": "get" if named else "list",
        "PATCH": "patch",
        "PUT": "update",
        "POST": "create",
        "DELETE": "delete" if named else "deletecollection",
    }[http_method]
    return (group, resource, verb), namespaced


# ----------------------------------------------------------------------------- the code, statically
def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted((ROOT / "bot").rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


@cache
def api_classes() -> dict[str, type]:
    """The kubernetes client API classes bot/ instantiates (CoreV1Api, AppsV1Api, …)."""
    from kubernetes import client

    names = {
        node.attr if isinstance(node, ast.Attribute) else node.id
        for _, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute | ast.Name)
        and re.fullmatch(r"\w+V\d\w*Api|CustomObjectsApi", getattr(node, "attr", getattr(node, "id", "")))
    }
    return {name: getattr(client, name) for name in sorted(names)}


@cache
def client_methods() -> dict[str, tuple[str, str]]:
    """Methods of those classes → (HTTP method, resource path), read from the client's request builders.

    Only the classes bot/ uses, because method names repeat across API groups (CoreV1Api and
    EventsV1Api both have list_namespaced_event); a name in two of them would be ambiguous.
    """
    methods: dict[str, tuple[str, str]] = {}
    for cls in api_classes().values():
        for attr in dir(cls):
            if attr.startswith("_") or attr.endswith(("_with_http_info", "_without_preload_content")):
                continue
            builder = getattr(cls, f"_{attr}_serialize", None) or getattr(cls, f"{attr}_with_http_info", None)
            if builder is None:
                continue
            source = inspect.getsource(builder)
            method = re.search(r"method='(\w+)'", source) or re.search(
                r"'(GET|POST|PUT|PATCH|DELETE)'", source
            )
            path = re.search(r"resource_path='([^']+)'", source) or re.search(r"'(/apis?/[^']+)'", source)
            if method and path:
                found = (method.group(1), path.group(1))
                methods[attr] = found if methods.get(attr, found) == found else AMBIGUOUS
    return methods


def referenced_methods() -> dict[str, set[str]]:
    """Kubernetes client methods named in bot/ (called or passed as callables) → files naming them."""
    known = client_methods()
    found: dict[str, set[str]] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in known:
                assert known[node.attr] != AMBIGUOUS, (
                    f"{path}: {node.attr} means different requests in different APIs"
                )
                found.setdefault(node.attr, set()).add(str(path.relative_to(ROOT)))
    return found


def static_rules() -> tuple[set[tuple[Rule, bool]], dict[str, str]]:
    """Rules of the concrete methods, and the generic ones (custom objects) by method → path template."""
    rules: set[tuple[Rule, bool]] = set()
    generic: dict[str, str] = {}
    for name in referenced_methods():
        http_method, path = client_methods()[name]
        if "{group}" in path or "{plural}" in path:
            generic[name] = path
        else:
            rules.add(rule_of(http_method, path))
    return rules, generic


def remediation_reads(served: set[tuple[str, str]]) -> set[Rule]:
    """Reads only remediation makes (the Secret `k8s rotate-secret` copies): granted by the remediation
    component with its writes, never by the read-only base — diagnostics must not read Secrets."""
    only: set[Rule] = set()
    elsewhere: set[Rule] = set()
    for name, files in referenced_methods().items():
        http_method, path = client_methods()[name]
        if "{group}" in path or "{plural}" in path:
            continue
        rule, _ = rule_of(http_method, path)
        if rule[2] not in READ_VERBS:
            continue
        (only if all(f.startswith("bot/remediation/") for f in files) else elsewhere).add(rule)
    return only - elsewhere - {rule_of(method, path)[0] for method, path in served}


# ---------------------------------------------------------------------------- the code, dynamically
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """(HTTP method, path) of every request the k8s adapter makes, running each of its checks."""
    with FakeKubeAPI() as api:
        kubeconfig = api.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
        policy = Policy.model_validate(
            {
                "targets": {
                    "k8s": {
                        "prod": {
                            "kubeconfig": str(kubeconfig),
                            "context": "test",
                            "namespaces": ["ecommerce"],
                        }
                    }
                }
            }
        )
        for check in ADAPTER.checks.values():
            runs = CHECK_ARGS.get(check.name, [([], {})])
            assert runs[0][0] or not check.min_args, (
                f"add arguments for `/diag k8s {check.name}` to CHECK_ARGS"
            )
            for args, options in runs:
                result = run_check(policy, "k8s", check.name, "prod", args, options, timeout=10)
                assert str(result.outcome) not in ("error", "timeout"), (check.name, result.error)
        return api.served_set()


@pytest.fixture(scope="module")
def used(served: set[tuple[str, str]]) -> set[tuple[Rule, bool]]:
    rules, generic = static_rules()
    dynamic = {rule_of(method, path) for method, path in served}
    for name, template in generic.items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        assert any(pattern.match(path) for _, path in served), (
            f"{name} is used in bot/ but no /diag k8s check exercised it: extend CHECK_ARGS"
        )
    return rules | dynamic


# --------------------------------------------------------------------------------------- the RBAC
def granted(docs: list[Doc]) -> Iterator[tuple[Rule, str, str | None]]:
    """(rule, binding kind, binding namespace) for every rule bound to Warroom's ServiceAccount."""
    roles = {
        (d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")): d
        for d in docs
        if d["kind"] in ("ClusterRole", "Role")
    }
    for binding in docs:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        subjects = {
            (s.get("namespace"), s["name"]) for s in binding["subjects"] if s["kind"] == "ServiceAccount"
        }
        if SERVICE_ACCOUNT not in subjects:
            continue
        namespace = binding["metadata"].get("namespace")
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], ref["name"], namespace if ref["kind"] == "Role" else None))
        assert role is not None, f"{binding['kind']} {binding['metadata']['name']} refers to a missing {ref}"
        for rule in role["rules"]:
            assert "resourceNames" not in rule and "nonResourceURLs" not in rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        assert "*" not in (group, resource, verb), f"wildcard in {role['metadata']['name']}"
                        yield (group, resource, verb), binding["kind"], namespace


def policy_namespaces() -> set[str]:
    """The namespaces the in-cluster k8s targets of the shipped policy read."""
    policy = load_policy(K8S / "policy.yml")
    return {
        ns for target in policy.targets.k8s.values() if target.kubeconfig is None for ns in target.namespaces
    }


def test_read_only_rbac_is_exactly_what_the_adapters_read(
    used: set[tuple[Rule, bool]], served: set[tuple[str, str]]
) -> None:
    code = {rule for rule, _ in used if rule[2] in READ_VERBS} - remediation_reads(served)
    rbac = {rule for rule, _, _ in granted(build(components=False))}
    assert not code - rbac, f"the code makes calls the ServiceAccount may not: {sorted(code - rbac)}"
    assert not rbac - code, f"RBAC grants what no code uses (least privilege): {sorted(rbac - code)}"


def test_the_base_grants_no_writes() -> None:
    verbs = {rule[2] for rule, _, _ in granted(build(components=False))}
    assert verbs <= READ_VERBS, verbs


def test_remediation_component_adds_exactly_the_writes_of_remediation(
    used: set[tuple[Rule, bool]], served: set[tuple[str, str]]
) -> None:
    code = {rule for rule, _ in used if rule[2] not in READ_VERBS}
    assert code, "no Kubernetes writes in bot/: remove the remediation component from deploy/k8s"
    code |= remediation_reads(served)
    base = {rule for rule, _, _ in granted(build(components=False))}
    added = {rule for rule, _, _ in granted(build())} - base
    assert added == code, f"component grants {sorted(added)}; the code writes {sorted(code)}"


def test_each_rule_is_bound_where_it_is_used(used: set[tuple[Rule, bool]]) -> None:
    """Namespaced rules per namespace of policy.yml (never cluster-wide); nodes cluster-wide."""
    namespaces = policy_namespaces()
    assert namespaces, "deploy/k8s/policy.yml has no in-cluster k8s target"
    scope = {rule: namespaced for rule, namespaced in used}
    bindings = list(granted(build()))
    for rule, namespaced in scope.items():
        where = {(kind, ns) for r, kind, ns in bindings if r == rule}
        if namespaced:
            assert where == {("RoleBinding", ns) for ns in namespaces}, (rule, where)
        else:
            assert where == {("ClusterRoleBinding", None)}, (rule, where)


def test_rbac_comments_list_every_rule() -> None:
    """The table at the top of rbac-diagnostics.yaml is what reviewers read: keep it true."""
    header = (K8S / "rbac-diagnostics.yaml").read_text().split("apiVersion:", 1)[0]
    for doc in yaml.safe_load_all((K8S / "rbac-diagnostics.yaml").read_text()):
        if doc and doc["kind"] == "ClusterRole":
            for rule in doc["rules"]:
                for resource in rule["resources"]:
                    assert re.search(rf"#\s+{re.escape(resource)}\s", header) or resource in header, resource
    assert find(build(components=False), "ClusterRole", "warroom-remediation") == []
