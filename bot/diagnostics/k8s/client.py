"""Kubernetes API access shared by the checks and remediation: the cached client, one bounded
GET, the target's namespace rules, input validation. Every path the adapter reads is in `API_PATHS`, for RBAC.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    CheckFailed,
    CheckRefused,
    UsageError,
    clean_line,
    clients,
    since_option,
    tail_option,
)

# What the adapter reads, for the deploy issue's RBAC (a Role per namespace plus a ClusterRole for nodes).
API_PATHS: tuple[tuple[str, str], ...] = (
    ("GET", "/api/v1/namespaces/{namespace}/pods"),
    ("GET", "/api/v1/namespaces/{namespace}/pods/{name}"),
    ("GET", "/api/v1/namespaces/{namespace}/pods/{name}/log"),
    ("GET", "/api/v1/namespaces/{namespace}/events"),
    ("GET", "/api/v1/nodes"),
    ("GET", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
    ("GET", "/apis/apps/v1/namespaces/{namespace}/replicasets"),
    ("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"),
)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KIND_PREFIXES = {
    "pod": "pod",
    "pods": "pod",
    "po": "pod",
    "deployment": "deployment",
    "deploy": "deployment",
}
_DEPLOYMENTS = ("deployment", "deployments", "deploy")
REVISION = "deployment.kubernetes.io/revision"


# ---------------------------------------------------------------------------------- validation
def validate_name(value: str, what: str = "name") -> str:
    """A Kubernetes object name (DNS-1123 subdomain: pods, deployments); a UsageError otherwise."""
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise UsageError(
            f"`{value[:80]}` is not a valid Kubernetes {what}: use lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (DNS-1123), at most 253 characters."
        )
    return value


def validate_label(value: str, what: str = "namespace") -> str:
    """A namespace or container name (DNS-1123 label); a UsageError otherwise."""
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise UsageError(
            f"`{value[:80]}` is not a valid Kubernetes {what}: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (DNS-1123 label), at most 63 characters."
        )
    return value


def parse_ref(ref: str) -> tuple[str, str]:
    """`x`, `pod/x`, `deployment/x`, `deploy/x` → (kind, name), the name validated; a bare name is
    kind "any": a pod, else a deployment (people type the deployment they know, not its pod)."""
    kind, sep, name = ref.partition("/")
    if not sep:
        return "any", validate_name(ref, "pod name")
    if kind.lower() not in _KIND_PREFIXES:
        raise UsageError(f"`{kind}/…`: logs are read from a pod or a `deployment/<name>`.")
    return _KIND_PREFIXES[kind.lower()], validate_name(name, f"{_KIND_PREFIXES[kind.lower()]} name")


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "yes", "1", "on"):
        return True
    if value.lower() in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"`{name}=` takes true or false, not `{value}`.")


def _validate_namespace_option(options: dict[str, str]) -> None:
    for key in ("ns", "namespace"):
        if key in options:
            validate_label(options[key])


def validate_logs(args: list[str], options: dict[str, str]) -> None:
    if args:
        parse_ref(args[0])
    _validate_namespace_option(options)
    if "container" in options:
        validate_label(options["container"], "container name")
    parse_bool(options.get("previous"), "previous")
    tail_option(options)
    since_option(options)


def validate_deployment(args: list[str], options: dict[str, str]) -> None:
    if args:
        validate_name(strip_kind(args[0]), "deployment name")
    _validate_namespace_option(options)


def validate_ns_only(args: list[str], options: dict[str, str]) -> None:
    _validate_namespace_option(options)


def validate_scoped(args: list[str], options: dict[str, str]) -> None:
    """`[ns=…] [deployment=…]`: a namespace, or one deployment's share of it."""
    _validate_namespace_option(options)
    if "deployment" in options:
        validate_name(options["deployment"], "deployment name")


def strip_kind(ref: str) -> str:
    kind, sep, name = ref.partition("/")
    return name if sep and kind.lower() in _DEPLOYMENTS else ref


# --------------------------------------------------------------------------------- API access
def target_of(ctx: CheckContext) -> Any:
    if ctx.target is None:
        raise UsageError("No Kubernetes target configured: add one under `targets.k8s` in the YAML policy.")
    return ctx.target


def load_library() -> None:
    from kubernetes import client, config  # noqa: F401


def _new_api_client(target: Any) -> Any:
    from kubernetes import client, config

    configuration = client.Configuration()
    # A timeout must surface as one: urllib3's default would retry a timed-out GET three more times.
    configuration.retries = False
    if target.kubeconfig:
        return config.new_client_from_config(
            config_file=os.path.expanduser(target.kubeconfig),
            context=target.context,
            persist_config=False,  # read-only: never write refreshed tokens back into the file
            client_configuration=configuration,
        )
    config.load_incluster_config(client_configuration=configuration)
    return client.ApiClient(configuration)


def _api_client(ctx: CheckContext) -> Any:
    target = target_of(ctx)
    key = ("k8s", ctx.target_name, target.kubeconfig, target.context)
    from kubernetes.config.config_exception import ConfigException

    try:
        return clients.get(key, lambda: _new_api_client(target))
    except (ConfigException, OSError) as exc:  # kubeconfig missing or broken: say which, not a stack trace
        raise CheckFailed(
            f"Can't load the Kubernetes config of target {ctx.target_name}: {exc}",
            "check `kubeconfig:` and `context:` of the target (no kubeconfig means in-cluster config)",
        ) from None


def status_message(body: Any) -> str:
    try:
        status = json.loads(body)
        return str(status.get("message") or status.get("reason") or "")
    except (TypeError, ValueError, AttributeError):
        return clean_line(str(body or ""), 300)


UNREACHABLE_FIX = "check the server address in the kubeconfig and that the bot can reach it (network, VPN)"


def call(
    ctx: CheckContext,
    what: str,
    func: Callable[..., Any],
    *args: Any,
    absent: tuple[int, ...] = (),
    **kwargs: Any,
) -> bytes | None:
    """One API GET with the check's timeout; the raw body, or None when its status is in `absent`."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        response = func(*args, _request_timeout=ctx.timeout, _preload_content=False, **kwargs)
        return bytes(response.data)
    except ApiException as exc:
        if exc.status in absent:
            return None
        raise _api_error(exc, what) from None
    except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout errors: test it first
        raise CheckFailed(f"Can't reach the Kubernetes API reading {what}: {exc}", UNREACHABLE_FIX) from None
    except urllib3.exceptions.TimeoutError:
        # TimeoutError, not CheckFailed: the runner reports it as a timeout, which is what it is.
        raise TimeoutError(f"the Kubernetes API did not answer {what} within {ctx.timeout:g} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise CheckFailed(f"Can't reach the Kubernetes API reading {what}: {exc}", UNREACHABLE_FIX) from None


def _api_error(exc: Any, what: str) -> Exception:
    message = status_message(exc.body) or exc.reason
    if exc.status == 404:
        return UsageError(f"Not found: {message}.")
    if exc.status == 400:
        return UsageError(f"The Kubernetes API refused {what}: {message}.")
    if exc.status == 403:
        return CheckFailed(
            f"403 Forbidden reading {what}: {message}",
            "grant the bot's ServiceAccount get/list on this resource in its RBAC Role",
        )
    if exc.status == 401:
        return CheckFailed(f"401 Unauthorized reading {what}", "check the credentials in the kubeconfig")
    return CheckFailed(f"the Kubernetes API answered {exc.status} reading {what}: {message}")


def get_json(
    ctx: CheckContext, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(call(ctx, what, func, *args, **kwargs) or b"{}")
    return data


def core_api(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.CoreV1Api(_api_client(ctx))


def apps_api(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.AppsV1Api(_api_client(ctx))


def custom_api(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(_api_client(ctx))


def namespaces_of(ctx: CheckContext) -> list[str]:
    """`ns=` when given (it must be one of the target's), else all of the target's namespaces."""
    target = target_of(ctx)
    chosen = ctx.options.get("ns") or ctx.options.get("namespace")
    if chosen is None:
        return list(target.namespaces)
    validate_label(chosen)
    if chosen not in target.namespaces:
        allowed = ", ".join(target.namespaces)
        raise CheckRefused(
            f"Namespace `{chosen}` is not one that target `{ctx.target_name}` may read (allowed: {allowed}). "
            "Add it to `targets.k8s.<name>.namespaces` in the YAML policy."
        )
    return [chosen]


def namespace_of(ctx: CheckContext) -> str:
    """One namespace for checks about a named object: `ns=`, or the target's first."""
    return namespaces_of(ctx)[0]


def read_deployment(ctx: CheckContext, name: str, ns: str, what: str = "deployment") -> dict[str, Any]:
    raw = call(ctx, f"deployment {name}", apps_api(ctx).read_namespaced_deployment, name, ns, absent=(404,))
    if raw is None:
        raise UsageError(f"No {what} `{name}` in namespace {ns}. `/diag k8s pods` lists what runs there.")
    deployment: dict[str, Any] = json.loads(raw)
    return deployment
