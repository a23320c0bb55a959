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
from bot.i18n import N_, _

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
def validate_name(value: str, what: str = N_("name")) -> str:
    """A Kubernetes object name (DNS-1123 subdomain: pods, deployments); a UsageError otherwise.
    `what` is marked N_ by the caller and translated here."""
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise UsageError(
            _(
                "`{value}` is not a valid Kubernetes {what}: use lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit (DNS-1123), at most 253 characters.",
                value=value[:80],
                what=_(what),
            )
        )
    return value


def validate_label(value: str, what: str = N_("namespace")) -> str:
    """A namespace or container name (DNS-1123 label); a UsageError otherwise (`what` marked N_)."""
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise UsageError(
            _(
                "`{value}` is not a valid Kubernetes {what}: use lowercase letters, digits and '-', "
                "starting and ending with a letter or digit (DNS-1123 label), at most 63 characters.",
                value=value[:80],
                what=_(what),
            )
        )
    return value


def parse_ref(ref: str) -> tuple[str, str]:
    """`x`, `pod/x`, `deployment/x`, `deploy/x` → (kind, name), the name validated; a bare name is
    kind "any": a pod, else a deployment (people type the deployment they know, not its pod)."""
    kind, sep, name = ref.partition("/")
    if not sep:
        return "any", validate_name(ref, N_("pod name"))
    if kind.lower() not in _KIND_PREFIXES:
        raise UsageError(_("`{kind}/…`: logs are read from a pod or a `deployment/<name>`.", kind=kind))
    resolved = _KIND_PREFIXES[kind.lower()]
    return resolved, validate_name(name, N_("pod name") if resolved == "pod" else N_("deployment name"))


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "yes", "1", "on"):
        return True
    if value.lower() in ("false", "no", "0", "off"):
        return False
    raise UsageError(_("`{name}=` takes true or false, not `{value}`.", name=name, value=value))


def _validate_namespace_option(options: dict[str, str]) -> None:
    for key in ("ns", "namespace"):
        if key in options:
            validate_label(options[key])


def validate_logs(args: list[str], options: dict[str, str]) -> None:
    if args:
        parse_ref(args[0])
    _validate_namespace_option(options)
    if "container" in options:
        validate_label(options["container"], N_("container name"))
    parse_bool(options.get("previous"), "previous")
    tail_option(options)
    since_option(options)


def validate_deployment(args: list[str], options: dict[str, str]) -> None:
    if args:
        validate_name(strip_kind(args[0]), N_("deployment name"))
    _validate_namespace_option(options)


def validate_ns_only(args: list[str], options: dict[str, str]) -> None:
    _validate_namespace_option(options)


def validate_scoped(args: list[str], options: dict[str, str]) -> None:
    """`[ns=…] [deployment=…]`: a namespace, or one deployment's share of it."""
    _validate_namespace_option(options)
    if "deployment" in options:
        validate_name(options["deployment"], N_("deployment name"))


def strip_kind(ref: str) -> str:
    kind, sep, name = ref.partition("/")
    return name if sep and kind.lower() in _DEPLOYMENTS else ref


# --------------------------------------------------------------------------------- API access
def target_of(ctx: CheckContext) -> Any:
    if ctx.target is None:
        raise UsageError(
            _("No Kubernetes target configured: add one under `targets.k8s` in the YAML policy.")
        )
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
            _(
                "Can't load the Kubernetes config of target {target}: {error}",
                target=ctx.target_name,
                error=exc,
            ),
            _("check `kubeconfig:` and `context:` of the target (no kubeconfig means in-cluster config)"),
        ) from None


def status_message(body: Any) -> str:
    try:
        status = json.loads(body)
        return str(status.get("message") or status.get("reason") or "")
    except (TypeError, ValueError, AttributeError):
        return clean_line(str(body or ""), 300)


UNREACHABLE_FIX = N_(
    "check the server address in the kubeconfig and that the bot can reach it (network, VPN)"
)


def call(
    ctx: CheckContext,
    what: str,
    func: Callable[..., Any],
    *args: Any,
    absent: tuple[int, ...] = (),
    **kwargs: Any,
) -> bytes | None:
    """One API GET with the check's timeout; the raw body, or None when its status is in `absent`.
    `what` ("pods in ecommerce") is already in the language in force: it goes into the messages as is."""
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
        raise CheckFailed(
            _("Can't reach the Kubernetes API reading {what}: {error}", what=what, error=exc), UNREACHABLE_FIX
        ) from None
    except urllib3.exceptions.TimeoutError:
        # TimeoutError, not CheckFailed: the runner reports it as a timeout, which is what it is.
        raise TimeoutError(
            _(
                "the Kubernetes API did not answer {what} within {limit} s",
                what=what,
                limit=f"{ctx.timeout:g}",
            )
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        raise CheckFailed(
            _("Can't reach the Kubernetes API reading {what}: {error}", what=what, error=exc), UNREACHABLE_FIX
        ) from None


def _api_error(exc: Any, what: str) -> Exception:
    message = status_message(exc.body) or exc.reason
    if exc.status == 404:
        return UsageError(_("Not found: {message}.", message=message))
    if exc.status == 400:
        return UsageError(_("The Kubernetes API refused {what}: {message}.", what=what, message=message))
    if exc.status == 403:
        return CheckFailed(
            _("403 Forbidden reading {what}: {message}", what=what, message=message),
            _("grant the bot's ServiceAccount get/list on this resource in its RBAC Role"),
        )
    if exc.status == 401:
        return CheckFailed(
            _("401 Unauthorized reading {what}", what=what), _("check the credentials in the kubeconfig")
        )
    return CheckFailed(
        _(
            "the Kubernetes API answered {status} reading {what}: {message}",
            status=exc.status,
            what=what,
            message=message,
        )
    )


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
            _(
                "Namespace `{namespace}` is not one that target `{target}` may read (allowed: {allowed}). "
                "Add it to `targets.k8s.<name>.namespaces` in the YAML policy.",
                namespace=chosen,
                target=ctx.target_name,
                allowed=allowed,
            )
        )
    return [chosen]


def namespace_of(ctx: CheckContext) -> str:
    """One namespace for checks about a named object: `ns=`, or the target's first."""
    return namespaces_of(ctx)[0]


def read_deployment(ctx: CheckContext, name: str, ns: str, what: str = N_("deployment")) -> dict[str, Any]:
    """The deployment's JSON; a UsageError naming `what` (marked N_) when there is none."""
    raw = call(
        ctx,
        _("deployment {name}", name=name),
        apps_api(ctx).read_namespaced_deployment,
        name,
        ns,
        absent=(404,),
    )
    if raw is None:
        raise UsageError(
            _(
                "No {what} `{name}` in namespace {namespace}. `/diag k8s pods` lists what runs there.",
                what=_(what),
                name=name,
                namespace=ns,
            )
        )
    deployment: dict[str, Any] = json.loads(raw)
    return deployment
