"""kubectl get pods and kubectl logs: pod states with their fixes, and recent log lines with errors counted."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.diagnostics.base import (
    CheckContext,
    Fix,
    Level,
    Report,
    UsageError,
    clean,
    clean_line,
    since_option,
    tail_option,
)
from bot.diagnostics.k8s.client import (
    call,
    core_api,
    get_json,
    namespace_of,
    namespaces_of,
    parse_bool,
    parse_ref,
    read_deployment,
    validate_label,
)
from bot.diagnostics.k8s.fields import age_since, deployment_of, scoped, table
from bot.diagnostics.k8s.scope import deployment_option, deployment_pods
from bot.i18n import N_, _, ngettext

_MAX_LOG_PODS = 5  # kubectl reads one pod of a deployment; five, so one crashing replica is not missed
_ERROR_LINE = re.compile(
    r"\b(?:error|err|exception|fatal|panic|traceback|critical|oom\w*|outofmemory\w*|killed)\b"
    r"|\"\s5\d\d\s|\bstatus[=:]\s?5\d\d\b",
    re.IGNORECASE,
)


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
        return _(
            "{fix}: read the previous logs: /diag k8s logs {pod} previous=true; raise the memory limit, "
            "then {restart}",
            fix=_(Fix.OOM),
            pod=pod,
            restart=restart,
        )
    if status == "CrashLoopBackOff":
        return _(
            "read the previous logs: /diag k8s logs {pod} previous=true; fix config or memory limit, then {restart}",
            pod=pod,
            restart=restart,
        )
    if status in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
        return _(
            "check the image name and tag and the registry credentials (imagePullSecrets), then redeploy"
        )
    if status in ("CreateContainerConfigError", "CreateContainerError"):
        return _(
            "a ConfigMap or Secret the pod needs is missing: /diag k8s events; {fix}", fix=_(Fix.NOT_RUNNING)
        )
    if status == "Pending":
        return _(
            "see why it cannot be scheduled: /diag k8s events, /diag k8s nodes; add nodes or lower its requests"
        )
    return _(
        "read its logs: /diag k8s logs {pod}; check /diag k8s events; {fix}", pod=pod, fix=_(Fix.NOT_RUNNING)
    )


def _pod_row(pod: dict[str, Any], ns: str) -> PodRow:
    spec, status = pod.get("spec", {}), pod.get("status", {})
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    total = len(spec.get("containers") or [])
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    name, state, phase = pod["metadata"]["name"], _pod_status(pod), status.get("phase")
    deployment = deployment_of(pod)
    last = _last_termination(pod)
    oom = last is not None and last[0] == "OOMKilled"
    level, problem = _pod_level(state, phase, ready, total, restarts)
    if problem and restarts:
        problem += ngettext(", {n} restart", ", {n} restarts", restarts)
    if problem and last:
        exit_code = f" ({last[1]})" if last[1] is not None else ""
        problem += _(", last exit {reason}{code}", reason=last[0], code=exit_code)
    if phase == "Pending":
        problem += _unscheduled_reason(status)
    return PodRow(
        namespace=ns,
        name=name,
        ready=f"{ready}/{total}",
        status=state,
        restarts=restarts,
        age=age_since(pod["metadata"].get("creationTimestamp")),
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
        return Level.CRIT, _("{state} (pod failed)", state=state)
    if phase == "Pending":
        return Level.WARN, "Pending"
    if ready < total:
        return Level.WARN, _("{state} but not ready ({ready}/{total})", state=state, ready=ready, total=total)
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
    """kubectl get pods, with not-ready / CrashLoopBackOff / restarts flagged; `deployment=` narrows it
    to one deployment's pods (kubectl get pods -l <its selector>)."""
    rows: list[PodRow] = []
    only = deployment_option(ctx)
    if only:
        ns = namespace_of(ctx)
        namespaces, where = [ns], _("deployment {name} ({namespace})", name=only, namespace=ns)
        rows = [_pod_row(pod, ns) for pod in deployment_pods(ctx, read_deployment(ctx, only, ns), ns)]
    else:
        namespaces = namespaces_of(ctx)
        where = ", ".join(namespaces)
        core = core_api(ctx)
        for ns in namespaces:
            listing = get_json(ctx, _("pods in {namespace}", namespace=ns), core.list_namespaced_pod, ns)
            rows += [_pod_row(pod, ns) for pod in listing.get("items", [])]
    many = len(namespaces) > 1
    report = Report()
    for row in sorted(rows, key=lambda r: -r.level.rank):
        if row.level is not Level.OK:
            pod = scoped(row.name, row.namespace, many)
            report.add(row.level, _("pod {pod}: {problem}", pod=pod, problem=row.problem), row.fix)
    healthy = sum(1 for row in rows if row.level is Level.OK)
    if not rows:
        report.warn(
            _("no pods in {where}", where=where), _("check the namespace and that the deployment exists")
        )
    elif healthy == len(rows):
        report.ok(
            ngettext(
                "the {n} pod in {where} is running and ready",
                "all {n} pods in {where} are running and ready",
                len(rows),
                where=where,
            )
        )
    else:
        report.ok(
            _(
                "{healthy} of {total} pods in {where} are healthy",
                healthy=healthy,
                total=len(rows),
                where=where,
            )
        )
    headers = ["NAMESPACE"] * many + ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
    report.detail = table(
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
        previous=parse_bool(ctx.options.get("previous"), "previous"),
        container=validate_label(container, "container name") if container else None,
        # Plain case-insensitive text, `|` for alternatives: no user-supplied regex, so no ReDoS.
        grep=[g.lower() for g in grep.split("|") if g] if grep else [],
    )


def _log_pods(ctx: CheckContext, ns: str, kind: str, name: str) -> list[dict[str, Any]]:
    core = core_api(ctx)
    if kind == "pod":
        return [get_json(ctx, _("pod {name}", name=name), core.read_namespaced_pod, name, ns)]
    if kind == "any":
        raw = call(ctx, _("pod {name}", name=name), core.read_namespaced_pod, name, ns, absent=(404,))
        if raw is not None:
            return [json.loads(raw)]
    deployment = read_deployment(
        ctx, name, ns, N_("pod or deployment") if kind == "any" else N_("deployment")
    )
    found = deployment_pods(ctx, deployment, ns)
    if not found:
        raise UsageError(_("Deployment `{name}` has no pods in {namespace}.", name=name, namespace=ns))
    return found[:_MAX_LOG_PODS]


def _container_of(pod: dict[str, Any], wanted: str | None) -> str:
    names = [c["name"] for c in pod["spec"].get("containers", [])]
    if wanted:
        if wanted not in names:
            raise UsageError(
                _(
                    "Pod `{pod}` has no container `{container}` (it has {names}).",
                    pod=pod["metadata"]["name"],
                    container=wanted,
                    names=", ".join(names),
                )
            )
        return wanted
    annotations = pod["metadata"].get("annotations") or {}
    default = annotations.get("kubectl.kubernetes.io/default-container")
    return default if default in names else names[0]


def _read_log(
    ctx: CheckContext, ns: str, pod: str, container: str, request: LogRequest, *, previous: bool = False
) -> str:
    kwargs: dict[str, Any] = {"container": container, "tail_lines": request.tail}
    if request.since:
        kwargs["since_seconds"] = request.since
    if previous:
        kwargs["previous"] = True
    what = _("logs of {pod}", pod=pod)
    raw = call(ctx, what, core_api(ctx).read_namespaced_pod_log, pod, ns, **kwargs) or b""
    # Logs are bytes from the app: never let a stray invalid byte abort the check.
    return raw.decode("utf-8", errors="replace")


def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return next((cs for cs in statuses if cs.get("name") == container), {})


def crashed_before(pod: dict[str, Any], container: str) -> str | None:
    """How the container's previous run ended, when it crashed ("OOMKilled, exit 137"); None when it
    has not restarted or the last run ended cleanly. A crash loop's error is often only there: the
    current container has just started and logged nothing wrong yet."""
    status = _container_status(pod, container)
    last = (status.get("lastState") or {}).get("terminated")
    if not status.get("restartCount") or not last:
        return None
    waiting = (status.get("state") or {}).get("waiting") or {}
    if last.get("exitCode") == 0 and waiting.get("reason") != "CrashLoopBackOff":
        return None
    return _("{reason}, exit {code}", reason=last.get("reason") or "Error", code=last.get("exitCode"))


@dataclass
class LogRun:
    """One container run's lines: the current one, or the previous (crashed) one."""

    pod: str
    container: str
    previous: str | None  # None: the current run; else how the previous one ended ("" when asked for)
    lines: list[str]

    @property
    def scope(self) -> str:
        if self.previous is None:
            return f"{self.pod}/{self.container}"
        if self.previous:
            return _("{name} (previous, {how})", name=f"{self.pod}/{self.container}", how=self.previous)
        return _("{name} (previous)", name=f"{self.pod}/{self.container}")


def logs(ctx: CheckContext) -> Report:
    """kubectl logs <pod|deployment/name> --tail --since --previous, error lines counted, secrets masked.

    Without `previous=`, a container that crashed before also has its previous run read (where a crash
    loop's error is); with `previous=true`, a container that never restarted is said to have no previous
    run — that is not a problem of the pod."""
    kind, name = parse_ref(ctx.arg(0, N_("pod or deployment/<name>")))
    ns, request = namespace_of(ctx), _log_request(ctx)
    report, sections = Report(), []
    counts: dict[str, int] = {}
    previous_counts: dict[str, int] = {}
    for pod in _log_pods(ctx, ns, kind, name):
        pod_name = pod["metadata"]["name"]
        container = _container_of(pod, request.container)
        crashed = crashed_before(pod, container)
        if request.previous and not _container_status(pod, container).get("restartCount"):
            report.ok(
                _(
                    "{name}: has not restarted, so there is no previous run to read",
                    name=f"{pod_name}/{container}",
                )
            )
            continue
        wanted = [""] if request.previous else [None, *([crashed] if crashed else [])]
        for previous in wanted:
            try:
                text = clean(_read_log(ctx, ns, pod_name, container, request, previous=previous is not None))
            except UsageError as exc:  # a container still starting, a previous run already gone …
                if "previous terminated container" in str(exc):
                    report.ok(
                        _("{name}: no previous run to read (it is gone)", name=f"{pod_name}/{container}")
                    )
                else:
                    report.warn(f"{pod_name}: {exc}")
                continue
            run = LogRun(pod_name, container, previous, text.splitlines())
            errors = [ln for ln in run.lines if _ERROR_LINE.search(ln)]
            (counts if previous is None else previous_counts)[pod_name] = len(errors)
            shown = _log_findings(report, run, errors, request, deployment_of(pod))
            sections.append(f"==> {run.scope} <==\n" + ("\n".join(shown) if shown else _("(no lines)")))
    report.detail = "\n\n".join(sections)
    report.data.update(
        namespace=ns, error_lines=counts, previous_error_lines=previous_counts, tail=request.tail
    )
    return report


def _log_findings(
    report: Report, run: LogRun, errors: list[str], request: LogRequest, deployment: str | None
) -> list[str]:
    """One finding per container run, whose level and words agree; returns the lines to show: all of
    them, or with `grep=` the matching lines plus the error lines the finding counts."""
    total, words = len(run.lines), "|".join(request.grep)
    if not total:
        if request.since:
            report.ok(
                _("{scope}: no log lines in the last {seconds} s", scope=run.scope, seconds=request.since)
            )
        else:
            report.ok(_("{scope}: no log lines", scope=run.scope))
        return []
    matching = [ln for ln in run.lines if any(g in ln.lower() for g in request.grep)] if request.grep else []
    matched = " " + _("({n} match `{words}`)", n=len(matching), words=words) if request.grep else ""
    if errors:
        sample = clean_line(errors[-1], 200)
        fix = _(Fix.HTTP_500)
        if deployment:
            fix += "; " + _(
                "{fix}: /remediate k8s restart {deployment}", fix=_(Fix.HTTP_502), deployment=deployment
            )
        before = " " + _("before it crashed") if run.previous else ""
        report.warn(
            _(
                "{scope}: {errors} error lines in the last {total} lines{before}{matched} — latest: {sample}",
                scope=run.scope,
                errors=len(errors),
                total=total,
                before=before,
                matched=matched,
                sample=sample,
            ),
            fix,
        )
    elif request.grep:
        report.ok(
            _(
                "{scope}: {n} of the last {total} lines match `{words}`; no error lines",
                scope=run.scope,
                n=len(matching),
                total=total,
                words=words,
            )
        )
    else:
        report.ok(_("{scope}: no error lines in the last {total} lines", scope=run.scope, total=total))
    if not request.grep:
        return run.lines
    wanted = set(matching) | set(errors)
    return [ln for ln in run.lines if ln in wanted]
