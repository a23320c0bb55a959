"""`/diag k8s`: the guide's kubectl diagnostics, read-only, through the official `kubernetes` client.

kubectl get pods / logs / top pods, warning events, rollout status and history, node pressure.
Every call is a GET (the REST paths are listed in `API_PATHS`, for RBAC) with the per-call timeout,
and only the namespaces the target lists may be read. Responses are read as raw JSON (the API's own
field names, as kubectl shows them) instead of the generated models: the raw form survives server
versions newer than the client and needs no translation for the tables.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    CheckRefused,
    Fix,
    Level,
    Report,
    UsageError,
    clean,
    clean_line,
    clients,
    format_table,
    level_for,
    masked,
    since_option,
    tail_option,
)
from bot.diagnostics.registry import register

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
_MAX_LOG_PODS = 5  # kubectl reads one pod of a deployment; five, so one crashing replica is not missed
_ERROR_LINE = re.compile(
    r"\b(?:error|err|exception|fatal|panic|traceback|critical|oom\w*|outofmemory\w*|killed)\b"
    r"|\"\s5\d\d\s|\bstatus[=:]\s?5\d\d\b",
    re.IGNORECASE,
)
_REVISION = "deployment.kubernetes.io/revision"
_PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


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


def _parse_ref(ref: str) -> tuple[str, str]:
    """`x`, `pod/x`, `deployment/x`, `deploy/x` → (kind, name), the name validated; a bare name is
    kind "any": a pod, else a deployment (people type the deployment they know, not its pod)."""
    kind, sep, name = ref.partition("/")
    if not sep:
        return "any", validate_name(ref, "pod name")
    if kind.lower() not in _KIND_PREFIXES:
        raise UsageError(f"`{kind}/…`: logs are read from a pod or a `deployment/<name>`.")
    return _KIND_PREFIXES[kind.lower()], validate_name(name, f"{_KIND_PREFIXES[kind.lower()]} name")


def _bool(value: str | None, name: str) -> bool:
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


def _validate_logs(args: list[str], options: dict[str, str]) -> None:
    if args:
        _parse_ref(args[0])
    _validate_namespace_option(options)
    if "container" in options:
        validate_label(options["container"], "container name")
    _bool(options.get("previous"), "previous")
    tail_option(options)
    since_option(options)


def _validate_deployment(args: list[str], options: dict[str, str]) -> None:
    if args:
        validate_name(_strip_kind(args[0]), "deployment name")
    _validate_namespace_option(options)


def _validate_ns_only(args: list[str], options: dict[str, str]) -> None:
    _validate_namespace_option(options)


def _strip_kind(ref: str) -> str:
    kind, sep, name = ref.partition("/")
    return name if sep and kind.lower() in _DEPLOYMENTS else ref


# --------------------------------------------------------------------------------- API access
def _target(ctx: CheckContext) -> Any:
    if ctx.target is None:
        raise UsageError("No Kubernetes target configured: add one under `targets.k8s` in the YAML policy.")
    return ctx.target


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
    target = _target(ctx)
    key = ("k8s", ctx.target_name, target.kubeconfig, target.context)
    from kubernetes.config.config_exception import ConfigException

    try:
        return clients.get(key, lambda: _new_api_client(target))
    except (ConfigException, OSError) as exc:  # kubeconfig missing or broken: say which, not a stack trace
        raise CheckFailed(
            f"Can't load the Kubernetes config of target {ctx.target_name}: {exc}",
            "check `kubeconfig:` and `context:` of the target (no kubeconfig means in-cluster config)",
        ) from None


def _status_message(body: Any) -> str:
    try:
        status = json.loads(body)
        return str(status.get("message") or status.get("reason") or "")
    except (TypeError, ValueError, AttributeError):
        return clean_line(str(body or ""), 300)


_UNREACHABLE_FIX = "check the server address in the kubeconfig and that the bot can reach it (network, VPN)"


def _call(
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
        raise CheckFailed(f"Can't reach the Kubernetes API reading {what}: {exc}", _UNREACHABLE_FIX) from None
    except urllib3.exceptions.TimeoutError:
        # TimeoutError, not CheckFailed: the runner reports it as a timeout, which is what it is.
        raise TimeoutError(f"the Kubernetes API did not answer {what} within {ctx.timeout:g} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise CheckFailed(f"Can't reach the Kubernetes API reading {what}: {exc}", _UNREACHABLE_FIX) from None


def _api_error(exc: Any, what: str) -> Exception:
    message = _status_message(exc.body) or exc.reason
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


def _json(
    ctx: CheckContext, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_call(ctx, what, func, *args, **kwargs) or b"{}")
    return data


def _core(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.CoreV1Api(_api_client(ctx))


def _apps(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.AppsV1Api(_api_client(ctx))


def _custom(ctx: CheckContext) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(_api_client(ctx))


def _namespaces(ctx: CheckContext) -> list[str]:
    """`ns=` when given (it must be one of the target's), else all of the target's namespaces."""
    target = _target(ctx)
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


def _namespace(ctx: CheckContext) -> str:
    """One namespace for checks about a named object: `ns=`, or the target's first."""
    return _namespaces(ctx)[0]


# ------------------------------------------------------------------------------------ helpers
def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _age(value: str | None, now: datetime | None = None) -> str:
    """kubectl's age column: 45s, 12m, 5h, 3d."""
    when = _parse_time(value)
    if when is None:
        return "-"
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _table(headers: list[str], rows: Iterable[list[str]], max_width: int = 100) -> str:
    return format_table(headers, list(rows), max_width=max_width)


def _quantity(value: str | None) -> Decimal | None:
    if not value:
        return None
    from kubernetes.utils import parse_quantity

    try:
        return Decimal(parse_quantity(value))
    except (ValueError, ArithmeticError):
        return None


def _bytes(value: Decimal | float | None) -> str:
    if value is None:
        return "-"
    number = float(value)
    for unit in ("Ki", "Mi", "Gi", "Ti"):
        number /= 1024
        if number < 1024:
            return f"{number:.0f}{unit}" if number >= 10 else f"{number:.1f}{unit}"
    return f"{number:.0f}Pi"


def _cores(value: Decimal | None) -> str:
    return "-" if value is None else f"{int(value * 1000)}m"


def _deployment_of(pod: dict[str, Any]) -> str | None:
    """The deployment behind a pod: its ReplicaSet owner's name without the pod-template-hash."""
    template_hash = pod["metadata"].get("labels", {}).get("pod-template-hash")
    for owner in pod["metadata"].get("ownerReferences") or []:
        if (
            owner.get("kind") == "ReplicaSet"
            and template_hash
            and owner["name"].endswith(f"-{template_hash}")
        ):
            return str(owner["name"][: -len(template_hash) - 1])
    return None


def _selector(label_selector: dict[str, Any]) -> str:
    """A LabelSelector object as the `labelSelector=` query string kubectl sends."""
    terms = [f"{k}={v}" for k, v in sorted((label_selector.get("matchLabels") or {}).items())]
    for expr in label_selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values") or [])
        terms.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(terms)


def _scoped(name: str, ns: str, many: bool) -> str:
    return f"{ns}/{name}" if many else name


# ---------------------------------------------------------------------------------------- pods
@dataclass
class PodRow:
    namespace: str
    name: str
    ready: str
    status: str
    restarts: int
    age: str
    node: str
    deployment: str | None
    level: Level
    problem: str
    fix: str | None


def _pod_status(pod: dict[str, Any]) -> str:
    """The STATUS column of kubectl get pods: a waiting/terminated reason beats the phase."""
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status", {})
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            return str(state["waiting"]["reason"])
        if "terminated" in state:
            return str(state["terminated"].get("reason") or f"ExitCode:{state['terminated'].get('exitCode')}")
    return str(status.get("reason") or status.get("phase") or "Unknown")


def _last_termination(pod: dict[str, Any]) -> tuple[str, int | None] | None:
    for cs in pod.get("status", {}).get("containerStatuses") or []:
        terminated = (cs.get("lastState") or {}).get("terminated")
        if terminated:
            return str(terminated.get("reason") or "Error"), terminated.get("exitCode")
    return None


def _pod_fix(status: str, pod: str, deployment: str | None, oom: bool) -> str:
    restart = f"/remediate k8s restart {deployment or '<deployment>'}"
    if oom:
        return (
            f"{Fix.OOM}: read the previous logs: /diag k8s logs {pod} previous=true; raise the memory limit, "
            f"then {restart}"
        )
    if status == "CrashLoopBackOff":
        return f"read the previous logs: /diag k8s logs {pod} previous=true; fix config or memory limit, then {restart}"
    if status in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
        return "check the image name and tag and the registry credentials (imagePullSecrets), then redeploy"
    if status in ("CreateContainerConfigError", "CreateContainerError"):
        return f"a ConfigMap or Secret the pod needs is missing: /diag k8s events; {Fix.NOT_RUNNING}"
    if status == "Pending":
        return "see why it cannot be scheduled: /diag k8s events, /diag k8s nodes; add nodes or lower its requests"
    return f"read its logs: /diag k8s logs {pod}; check /diag k8s events; {Fix.NOT_RUNNING}"


def _pod_row(pod: dict[str, Any], ns: str) -> PodRow:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    total = len(spec.get("containers") or [])
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    name, state, phase = pod["metadata"]["name"], _pod_status(pod), status.get("phase")
    deployment = _deployment_of(pod)
    last = _last_termination(pod)
    oom = last is not None and last[0] == "OOMKilled"
    level, problem = _pod_level(state, phase, ready, total, restarts)
    if problem and restarts:
        problem += f", {restarts} restarts"
    if problem and last:
        problem += f", last exit {last[0]}" + (f" ({last[1]})" if last[1] is not None else "")
    if phase == "Pending":
        problem += _unscheduled_reason(status)
    return PodRow(
        namespace=ns,
        name=name,
        ready=f"{ready}/{total}",
        status=state,
        restarts=restarts,
        age=_age(pod["metadata"].get("creationTimestamp")),
        node=spec.get("nodeName") or "<none>",
        deployment=deployment,
        level=level,
        problem=problem,
        fix=_pod_fix(state, name, deployment, oom) if level is not Level.OK else None,
    )


def _pod_level(state: str, phase: str | None, ready: int, total: int, restarts: int) -> tuple[Level, str]:
    if phase == "Succeeded":
        return Level.OK, ""
    if state in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "Error") or (
        state.startswith("Create") and state.endswith("Error")
    ):
        return Level.CRIT, state
    if phase == "Failed":
        return Level.CRIT, f"{state} (pod failed)"
    if phase == "Pending":
        return Level.WARN, "Pending"
    if ready < total:
        return Level.WARN, f"{state} but not ready ({ready}/{total})"
    if restarts:
        return Level.WARN, "Running"
    return Level.OK, ""


def _unscheduled_reason(status: dict[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            first_sentence = str(condition.get("message", "")).split(". ")[0]
            return f" — {condition.get('reason')}: {clean_line(first_sentence, 200)}"
    return ""


def pods(ctx: CheckContext) -> Report:
    """kubectl get pods, with not-ready / CrashLoopBackOff / restarts flagged."""
    namespaces = _namespaces(ctx)
    core, many = _core(ctx), len(namespaces) > 1
    rows: list[PodRow] = []
    for ns in namespaces:
        listing = _json(ctx, f"pods in {ns}", core.list_namespaced_pod, ns)
        rows += [_pod_row(pod, ns) for pod in listing.get("items", [])]
    report = Report()
    for row in sorted(rows, key=lambda r: -r.level.rank):
        if row.level is not Level.OK:
            report.add(row.level, f"pod {_scoped(row.name, row.namespace, many)}: {row.problem}", row.fix)
    healthy = sum(1 for row in rows if row.level is Level.OK)
    where = ", ".join(namespaces)
    if not rows:
        report.warn(f"no pods in {where}", "check the namespace and that the deployment exists")
    elif healthy == len(rows):
        report.ok(f"all {len(rows)} pods in {where} are running and ready")
    else:
        report.ok(f"{healthy} of {len(rows)} pods in {where} are healthy")
    headers = ["NAMESPACE"] * many + ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
    report.detail = _table(
        headers,
        ([r.namespace] * many + [r.name, r.ready, r.status, str(r.restarts), r.age, r.node] for r in rows),
    )
    report.data["pods"] = [
        {k: getattr(r, k) for k in ("namespace", "name", "ready", "status", "restarts", "node", "deployment")}
        | {"level": r.level.value}
        for r in rows
    ]
    return report


# ---------------------------------------------------------------------------------------- logs
@dataclass
class LogRequest:
    tail: int
    since: int | None
    previous: bool
    container: str | None
    grep: list[str]


def _log_request(ctx: CheckContext) -> LogRequest:
    grep = ctx.options.get("grep")
    container = ctx.options.get("container")
    return LogRequest(
        tail=tail_option(ctx.options),
        since=since_option(ctx.options),
        previous=_bool(ctx.options.get("previous"), "previous"),
        container=validate_label(container, "container name") if container else None,
        # Plain case-insensitive text, `|` for alternatives: no user-supplied regex, so no ReDoS.
        grep=[g.lower() for g in grep.split("|") if g] if grep else [],
    )


def _log_pods(ctx: CheckContext, ns: str, kind: str, name: str) -> list[dict[str, Any]]:
    core = _core(ctx)
    if kind == "pod":
        return [_json(ctx, f"pod {name}", core.read_namespaced_pod, name, ns)]
    if kind == "any":
        raw = _call(ctx, f"pod {name}", core.read_namespaced_pod, name, ns, absent=(404,))
        if raw is not None:
            return [json.loads(raw)]
    deployment = _deployment(ctx, name, ns, "pod or deployment" if kind == "any" else "deployment")
    selector = _selector(deployment["spec"]["selector"])
    listing = _json(ctx, f"pods of deployment {name}", core.list_namespaced_pod, ns, label_selector=selector)
    found = sorted(listing.get("items", []), key=lambda p: p["metadata"]["name"])
    if not found:
        raise UsageError(f"Deployment `{name}` has no pods in {ns}.")
    return found[:_MAX_LOG_PODS]


def _deployment(ctx: CheckContext, name: str, ns: str, what: str = "deployment") -> dict[str, Any]:
    raw = _call(ctx, f"deployment {name}", _apps(ctx).read_namespaced_deployment, name, ns, absent=(404,))
    if raw is None:
        raise UsageError(f"No {what} `{name}` in namespace {ns}. `/diag k8s pods` lists what runs there.")
    deployment: dict[str, Any] = json.loads(raw)
    return deployment


def _container_of(pod: dict[str, Any], wanted: str | None) -> str:
    names = [c["name"] for c in pod["spec"].get("containers", [])]
    if wanted:
        if wanted not in names:
            raise UsageError(
                f"Pod `{pod['metadata']['name']}` has no container `{wanted}` (it has {', '.join(names)})."
            )
        return wanted
    annotations = pod["metadata"].get("annotations") or {}
    default = annotations.get("kubectl.kubernetes.io/default-container")
    return default if default in names else names[0]


def _read_log(ctx: CheckContext, ns: str, pod: str, container: str, request: LogRequest) -> str:
    kwargs: dict[str, Any] = {"container": container, "tail_lines": request.tail}
    if request.since:
        kwargs["since_seconds"] = request.since
    if request.previous:
        kwargs["previous"] = True
    raw = _call(ctx, f"logs of {pod}", _core(ctx).read_namespaced_pod_log, pod, ns, **kwargs) or b""
    # Logs are bytes from the app: never let a stray invalid byte abort the check.
    return raw.decode("utf-8", errors="replace")


def logs(ctx: CheckContext) -> Report:
    """kubectl logs <pod|deployment/name> --tail --since --previous, error lines counted, secrets masked."""
    kind, name = _parse_ref(ctx.arg(0, "pod or deployment/<name>"))
    ns, request = _namespace(ctx), _log_request(ctx)
    report, sections = Report(), []
    counts: dict[str, int] = {}
    for pod in _log_pods(ctx, ns, kind, name):
        pod_name = pod["metadata"]["name"]
        container = _container_of(pod, request.container)
        try:
            text = clean(_read_log(ctx, ns, pod_name, container, request))
        except UsageError as exc:  # previous=true without a restart, a container still starting …
            report.warn(f"{pod_name}: {exc}")
            continue
        lines = text.splitlines()
        shown = [ln for ln in lines if any(g in ln.lower() for g in request.grep)] if request.grep else lines
        errors = [ln for ln in lines if _ERROR_LINE.search(ln)]
        counts[pod_name] = len(errors)
        _log_findings(report, pod_name, container, len(lines), shown, errors, request, _deployment_of(pod))
        header = f"==> {pod_name}/{container}{' (previous)' if request.previous else ''} <=="
        sections.append(header + "\n" + ("\n".join(shown) if shown else "(no lines)"))
    report.detail = "\n\n".join(sections)
    report.data.update(namespace=ns, error_lines=counts, tail=request.tail)
    return report


def _log_findings(
    report: Report,
    pod: str,
    container: str,
    total: int,
    shown: list[str],
    errors: list[str],
    request: LogRequest,
    deployment: str | None,
) -> None:
    scope = f"{pod}/{container}" + (" (previous)" if request.previous else "")
    if not total:
        report.ok(f"{scope}: no log lines" + (f" in the last {request.since} s" if request.since else ""))
        return
    if request.grep:
        # Informational: what matches a user's word is not by itself a problem; error lines are judged below.
        report.ok(f"{scope}: {len(shown)} of the last {total} lines match `{'|'.join(request.grep)}`")
    if errors:
        sample = clean_line(errors[-1], 200)
        restart = f"; {Fix.HTTP_502}: /remediate k8s restart {deployment}" if deployment else ""
        report.warn(
            f"{scope}: {len(errors)} error lines in the last {total} lines — latest: {sample}",
            Fix.HTTP_500 + restart,
        )
    elif not request.grep:
        report.ok(f"{scope}: no error lines in the last {total} lines")


# ----------------------------------------------------------------------------------------- top
def top(ctx: CheckContext) -> Report:
    """kubectl top pods, from metrics.k8s.io, with memory and CPU against each pod's limits."""
    namespaces = _namespaces(ctx)
    report, rows, many = Report(), [], len(namespaces) > 1
    for ns in namespaces:
        metrics = _pod_metrics(ctx, ns)
        if metrics is None:
            report.warn(
                "the metrics API (metrics.k8s.io) is not available in this cluster, so there is no "
                "`kubectl top` either",
                "install metrics-server (kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/"
                "releases/latest/download/components.yaml), or use /diag docker stats or CloudWatch",
            )
            return report
        limits = _pod_limits(ctx, ns)
        rows += [_top_row(ns, item, limits.get(item["metadata"]["name"], {})) for item in metrics]
    rows.sort(key=lambda r: -(r["memory"] or 0))
    for row in rows:
        _top_findings(report, row, many)
    if not any(f.level is not Level.OK for f in report.findings):
        report.ok(
            f"{len(rows)} pods use {_cores(sum((r['cpu'] for r in rows), Decimal(0)))} CPU and "
            f"{_bytes(sum((r['memory'] for r in rows), Decimal(0)))} memory, all under 80 % of their limits"
        )
    report.detail = _table(
        ["NAMESPACE"] * many + ["NAME", "CPU(cores)", "CPU%LIMIT", "MEMORY(bytes)", "MEM%LIMIT"],
        (
            [r["namespace"]] * many
            + [
                r["name"],
                _cores(r["cpu"]),
                _percent(r["cpu_ratio"]),
                _bytes(r["memory"]),
                _percent(r["memory_ratio"]),
            ]
            for r in rows
        ),
    )
    report.data["pods"] = [
        {
            "namespace": r["namespace"],
            "name": r["name"],
            "cpu": float(r["cpu"]),
            "memory": float(r["memory"]),
            "memory_ratio": r["memory_ratio"],
            "cpu_ratio": r["cpu_ratio"],
        }
        for r in rows
    ]
    return report


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.0f}%"


def _pod_metrics(ctx: CheckContext, ns: str) -> list[dict[str, Any]] | None:
    """PodMetrics of a namespace; None when the metrics API is not installed (404) or down (503)."""
    raw = _call(
        ctx,
        f"pod metrics in {ns}",
        _custom(ctx).list_namespaced_custom_object,
        "metrics.k8s.io",
        "v1beta1",
        ns,
        "pods",
        absent=(404, 503),  # 404: the API group is not registered; 503: metrics-server is down
    )
    if raw is None:
        return None
    return list(json.loads(raw).get("items", []))


def _pod_limits(ctx: CheckContext, ns: str) -> dict[str, dict[str, Decimal | None]]:
    """Per pod: the sum of its containers' cpu/memory limits, None when any container has none."""
    listing = _json(ctx, f"pods in {ns}", _core(ctx).list_namespaced_pod, ns)
    limits: dict[str, dict[str, Decimal | None]] = {}
    for pod in listing.get("items", []):
        totals: dict[str, Decimal | None] = {}
        for resource in ("cpu", "memory"):
            values = [
                _quantity(((c.get("resources") or {}).get("limits") or {}).get(resource))
                for c in pod["spec"].get("containers", [])
            ]
            totals[resource] = sum(values, Decimal(0)) if values and None not in values else None  # type: ignore[arg-type]
        limits[pod["metadata"]["name"]] = totals
    return limits


def _top_row(ns: str, item: dict[str, Any], limits: dict[str, Decimal | None]) -> dict[str, Any]:
    cpu = sum(
        (_quantity(c["usage"].get("cpu")) or Decimal(0) for c in item.get("containers", [])), Decimal(0)
    )
    memory = sum(
        (_quantity(c["usage"].get("memory")) or Decimal(0) for c in item.get("containers", [])), Decimal(0)
    )
    cpu_limit, memory_limit = limits.get("cpu"), limits.get("memory")
    return {
        "namespace": ns,
        "name": item["metadata"]["name"],
        "cpu": cpu,
        "memory": memory,
        "cpu_ratio": float(cpu / cpu_limit) if cpu_limit else None,
        "memory_ratio": float(memory / memory_limit) if memory_limit else None,
        "memory_limit": memory_limit,
    }


def _top_findings(report: Report, row: dict[str, Any], many: bool) -> None:
    name = _scoped(row["name"], row["namespace"], many)
    deployment = row["name"].rsplit("-", 2)[0]
    if row["memory_ratio"] is not None:
        level = level_for(row["memory_ratio"], warn=0.8, crit=0.9)
        if level is not Level.OK:
            report.add(
                level,
                f"pod {name} uses {_percent(row['memory_ratio'])} of its memory limit "
                f"({_bytes(row['memory'])} of {_bytes(row['memory_limit'])})",
                f"{Fix.OOM}: raise the limit or find the leak (/diag k8s logs {row['name']}); "
                f"/remediate k8s restart {deployment}",
            )
    if row["cpu_ratio"] is not None and row["cpu_ratio"] >= 0.9:
        report.warn(
            f"pod {name} uses {_percent(row['cpu_ratio'])} of its CPU limit: it is being throttled",
            f"{Fix.HTTP_504}; raise the CPU limit or scale out: /remediate k8s scale {deployment} <n>",
        )


# -------------------------------------------------------------------------------------- events
_EVENT_ADVICE: dict[str, tuple[Level, str]] = {
    "BackOff": (
        Level.CRIT,
        "a container keeps crashing: /diag k8s logs <pod> previous=true; fix config or memory limit",
    ),
    "CrashLoopBackOff": (Level.CRIT, "a container keeps crashing: /diag k8s logs <pod> previous=true"),
    "OOMKilling": (Level.CRIT, Fix.OOM),
    "OOMKilled": (Level.CRIT, Fix.OOM),
    "FailedScheduling": (
        Level.WARN,
        "not enough CPU/memory or a tainted node: /diag k8s nodes; add nodes (扩容实例) "
        "or lower the pod's requests",
    ),
    "Unhealthy": (
        Level.WARN,
        "a liveness/readiness probe fails: /diag k8s logs <pod>; check the app's health endpoint",
    ),
    "Failed": (
        Level.CRIT,
        "a container could not start (often the image): check the image name, tag and pull secret",
    ),
    "ErrImagePull": (Level.CRIT, "check the image name, tag and pull secret"),
    "FailedMount": (Level.WARN, "a volume, Secret or ConfigMap is missing or cannot be attached"),
    "FailedAttachVolume": (Level.WARN, "the volume is attached elsewhere or the node cannot reach it"),
    "FailedCreate": (Level.WARN, "the controller cannot create pods: check ResourceQuota / LimitRange"),
    "Evicted": (Level.WARN, "the node was under pressure: /diag k8s nodes"),
    "ProgressDeadlineExceeded": (Level.CRIT, "a rollout is stuck: /diag k8s rollout <deployment>"),
    "NodeNotReady": (Level.CRIT, "a node is down: /diag k8s nodes"),
}


def _event_time(event: dict[str, Any]) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("series") or {}).get("lastObservedTime")
        or event["metadata"].get("creationTimestamp")
        or ""
    )


def events(ctx: CheckContext) -> Report:
    """Warning events of the namespace(s), newest first, grouped by reason with the guide's fix."""
    namespaces = _namespaces(ctx)
    core, many, found = _core(ctx), len(namespaces) > 1, []
    for ns in namespaces:
        listing = _json(ctx, f"events in {ns}", core.list_namespaced_event, ns, field_selector="type=Warning")
        found += [(ns, e) for e in listing.get("items", []) if e.get("type", "Warning") == "Warning"]
    found.sort(key=lambda pair: _event_time(pair[1]), reverse=True)
    report = Report()
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for _, event in found:
        by_reason.setdefault(str(event.get("reason") or "Unknown"), []).append(event)
    for reason, group in by_reason.items():
        level, fix = _EVENT_ADVICE.get(reason, (Level.WARN, "see the events below: /diag k8s pods"))
        objects = sorted({e["involvedObject"].get("name", "?") for e in group})
        count = sum(int(e.get("count") or 1) for e in group)
        message = clean_line(group[0].get("message") or "", 200)
        # The advice names `<pod>`; fill in the object when the events are about one.
        fix = fix.replace("<pod>", objects[0]) if len(objects) == 1 else fix
        more = " …" if len(objects) > 3 else ""
        report.add(level, f"{reason} ×{count} on {', '.join(objects[:3])}{more}: {message}", fix)
    if not found:
        report.ok(f"no warning events in {', '.join(namespaces)}")
    report.detail = _table(
        ["NAMESPACE"] * many + ["LAST SEEN", "REASON", "OBJECT", "COUNT", "MESSAGE"],
        (
            [ns] * many
            + [
                _age(_event_time(e)),
                str(e.get("reason")),
                _involved(e),
                str(e.get("count") or 1),
                clean_line(e.get("message") or "", 160),
            ]
            for ns, e in found[:50]
        ),
    )
    report.data["reasons"] = {reason: len(group) for reason, group in by_reason.items()}
    return report


def _involved(event: dict[str, Any]) -> str:
    obj = event.get("involvedObject") or {}
    return f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '?')}"


# ------------------------------------------------------------------------------------- rollout
def rollout(ctx: CheckContext) -> Report:
    """kubectl rollout status + history: stuck = Progressing false / ProgressDeadlineExceeded / unavailable."""
    name = validate_name(_strip_kind(ctx.arg(0, "deployment name")), "deployment name")
    ns = _namespace(ctx)
    apps = _apps(ctx)
    deployment = _deployment(ctx, name, ns)
    listing = _json(
        ctx,
        f"replicasets of {name}",
        apps.list_namespaced_replica_set,
        ns,
        label_selector=_selector(deployment["spec"]["selector"]),
    )
    uid = deployment["metadata"].get("uid")
    owned = [
        rs
        for rs in listing.get("items", [])
        if any(
            o.get("uid") == uid and o.get("kind") == "Deployment"
            for o in rs["metadata"].get("ownerReferences") or []
        )
    ]
    owned.sort(key=_revision, reverse=True)
    report = Report()
    _rollout_findings(report, deployment, owned, ns)
    report.detail = _rollout_detail(deployment, owned)
    report.data.update(
        deployment=name,
        namespace=ns,
        revision=_revision(deployment),
        revisions=[_revision(rs) for rs in owned],
        stuck=report.level is Level.CRIT,
    )
    return report


def _revision(obj: dict[str, Any]) -> int:
    raw = (obj["metadata"].get("annotations") or {}).get(_REVISION, "0")
    return int(raw) if str(raw).isdigit() else 0


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c.get("type") == kind), {})


def _rollout_findings(
    report: Report, deployment: dict[str, Any], owned: list[dict[str, Any]], ns: str
) -> None:
    name, spec, status = deployment["metadata"]["name"], deployment["spec"], deployment.get("status", {})
    desired = int(spec.get("replicas", 1))
    updated, available = int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0)
    unavailable, ready = int(status.get("unavailableReplicas") or 0), int(status.get("readyReplicas") or 0)
    progressing = _condition(deployment, "Progressing")
    previous = next((_revision(rs) for rs in owned if _revision(rs) < _revision(deployment)), None)
    undo = f"kubectl rollout undo deployment/{name} -n {ns}" + (
        f" --to-revision={previous}" if previous else ""
    )
    stuck_fix = (
        f"the new pods do not become ready: /diag k8s pods, /diag k8s logs deployment/{name} previous=true, "
        f"/diag k8s events; roll back (回滚操作: {undo}) or fix and redeploy"
    )
    if progressing.get("reason") == "ProgressDeadlineExceeded" or progressing.get("status") == "False":
        report.crit(
            f"rollout of {name} is stuck: {progressing.get('reason', 'not progressing')} — "
            f"{progressing.get('message', '')} ({updated} of {desired} updated, {unavailable} unavailable)",
            stuck_fix,
        )
    elif spec.get("paused"):
        report.warn(
            f"rollout of {name} is paused", f"resume it when ready: kubectl rollout resume deployment/{name}"
        )
    elif int(status.get("observedGeneration") or 0) < int(deployment["metadata"].get("generation") or 0):
        report.warn(f"rollout of {name}: waiting for the controller to see the new spec")
    elif updated < desired or unavailable:
        report.warn(
            f"rollout of {name} in progress: {updated} of {desired} updated, {unavailable} unavailable",
            stuck_fix,
        )
    if available == 0 and desired > 0:
        report.crit(f"deployment {name} has no available replicas: the service is down", Fix.HTTP_502)
    if report.level is Level.OK:
        report.ok(f"rollout of {name} is complete: revision {_revision(deployment)}, {ready}/{desired} ready")


def _rollout_detail(deployment: dict[str, Any], owned: list[dict[str, Any]]) -> str:
    status = deployment.get("status", {})
    lines = [
        f"deployment/{deployment['metadata']['name']}  revision {_revision(deployment)}  "
        f"replicas {deployment['spec'].get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
        f"{status.get('readyReplicas', 0)} ready | {status.get('availableReplicas', 0)} available | "
        f"{status.get('unavailableReplicas', 0)} unavailable",
        "",
        _table(
            ["TYPE", "STATUS", "REASON", "MESSAGE"],
            (
                [
                    c.get("type", ""),
                    c.get("status", ""),
                    c.get("reason", ""),
                    clean_line(c.get("message", ""), 100),
                ]
                for c in status.get("conditions") or []
            ),
        ),
        "",
        "History:",
        _table(
            ["REVISION", "REPLICASET", "IMAGES", "READY", "AGE", "CHANGE-CAUSE"],
            (
                [
                    str(_revision(rs)),
                    rs["metadata"]["name"],
                    clean_line(
                        ",".join(c.get("image", "") for c in rs["spec"]["template"]["spec"]["containers"]),
                        100,
                    ),
                    f"{rs.get('status', {}).get('readyReplicas', 0)}/{rs['spec'].get('replicas', 0)}",
                    _age(rs["metadata"].get("creationTimestamp")),
                    clean_line(
                        (rs["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause", "<none>"),
                        100,
                    ),
                ]
                for rs in owned
            ),
        ),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- nodes
_NODE_FIX = {
    "DiskPressure": f"{Fix.DISK}: `docker system prune -a -f`, `journalctl --vacuum-time=7d`, or grow the EBS "
    "volume: /remediate aws ebs-grow <volume> <GiB>",
    "MemoryPressure": f"move or restart memory-hungry pods (/diag k8s top); {Fix.OOM}",
    "PIDPressure": "a process forks without bound: find it (/diag k8s top) and restart it",
    "NetworkUnavailable": f"the node's network is not configured: {Fix.NETWORK}",
    "NotReady": "check the kubelet and the instance (/diag aws ec2 <instance>); drain and replace the node",
}


def _instance_of(node: dict[str, Any]) -> str | None:
    provider = node.get("spec", {}).get("providerID") or ""
    return provider.rsplit("/", 1)[-1] if provider.startswith("aws://") else None


def nodes(ctx: CheckContext) -> Report:
    """kubectl get nodes, with NotReady and Memory/Disk/PID pressure flagged."""
    _target(ctx)
    listing = _json(ctx, "nodes", _core(ctx).list_node)
    report, rows = Report(), []
    for node in listing.get("items", []):
        name = node["metadata"]["name"]
        problems = _node_problems(node)
        instance = _instance_of(node)
        for problem in problems:
            fix = _NODE_FIX[problem]
            if instance:
                fix = fix.replace("<instance>", instance)
            report.crit(f"node {name}: {problem}" + (f" ({instance})" if instance else ""), fix)
        if node.get("spec", {}).get("unschedulable"):
            report.warn(
                f"node {name} is cordoned (SchedulingDisabled)", "uncordon it when maintenance is done"
            )
        roles = [
            k.split("/", 1)[1]
            for k in node["metadata"].get("labels", {})
            if k.startswith("node-role.kubernetes.io/")
        ]
        ready = "NotReady" not in problems
        rows.append(
            [
                name,
                ("Ready" if ready else "NotReady")
                + (",SchedulingDisabled" if node["spec"].get("unschedulable") else ""),
                ",".join(roles) or "<none>",
                _age(node["metadata"].get("creationTimestamp")),
                node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""),
                ",".join(p for p in problems if p != "NotReady") or "-",
            ]
        )
    if not report.findings:
        report.ok(f"all {len(rows)} nodes Ready, no memory, disk or PID pressure")
    report.detail = _table(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "PRESSURE"], rows)
    report.data["nodes"] = {row[0]: row[5] for row in rows}
    return report


def _node_problems(node: dict[str, Any]) -> list[str]:
    problems = []
    for condition in node.get("status", {}).get("conditions") or []:
        kind, status = condition.get("type"), condition.get("status")
        if kind == "Ready" and status != "True":
            problems.append("NotReady")
        elif kind in _PRESSURES and status == "True":
            problems.append(str(kind))
    return problems


# --------------------------------------------------------------------------------- the adapter


ADAPTER = register(
    Adapter(
        name="k8s",
        summary="Kubernetes: pods, logs, top, warning events, rollouts and nodes (read-only)",
        target_kind="k8s",
        default_check="pods",
        checks={
            "pods": Check(
                "pods",
                masked(pods),
                "pods with not-ready, CrashLoopBackOff and restarts flagged",
                usage="[ns=<namespace>]",
                guide="kubectl get pods -n ecommerce",
                max_args=0,
                options=("ns", "namespace"),
                validate=_validate_ns_only,
            ),
            "logs": Check(
                "logs",
                masked(logs),
                "recent log lines of a pod or deployment, error lines counted",
                usage="<pod|deployment/name> [tail=100] [since=10m] [grep=error] [previous=true] [container=c]",
                guide="kubectl logs deployment/ecommerce-app -n ecommerce --tail=100",
                min_args=1,
                max_args=1,
                options=("tail", "since", "grep", "previous", "container", "ns", "namespace"),
                validate=_validate_logs,
            ),
            "top": Check(
                "top",
                masked(top),
                "CPU and memory per pod against their limits (metrics.k8s.io)",
                usage="[ns=<namespace>]",
                guide="kubectl top pods -n ecommerce",
                max_args=0,
                options=("ns", "namespace"),
                validate=_validate_ns_only,
            ),
            "events": Check(
                "events",
                masked(events),
                "warning events, grouped by reason",
                usage="[ns=<namespace>]",
                guide="kubectl get events --field-selector type=Warning",
                max_args=0,
                options=("ns", "namespace"),
                validate=_validate_ns_only,
            ),
            "rollout": Check(
                "rollout",
                masked(rollout),
                "rollout status and revision history of a deployment",
                usage="<deployment> [ns=<namespace>]",
                guide="kubectl rollout status deployment/ecommerce-app -n ecommerce",
                min_args=1,
                max_args=1,
                options=("ns", "namespace"),
                validate=_validate_deployment,
            ),
            "nodes": Check(
                "nodes",
                masked(nodes),
                "nodes with NotReady and memory/disk/PID pressure flagged",
                guide="kubectl get nodes",
                max_args=0,
                options=(),
            ),
        },
    )
)
