"""`/diag docker`: the guide's docker ps / logs / stats / inspect / system df, read-only.

Talks to the engine through the docker SDK's low-level API client (one request per answer: the
high-level `containers.list()` would inspect every container in turn). Log lines, the environment
and command lines pass through the secret masker before they leave this module.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bot.diagnostics.base import (
    Adapter,
    Check,
    CheckContext,
    CheckFailed,
    Fix,
    Level,
    Report,
    UsageError,
    clean,
    clean_line,
    clients,
    format_pairs,
    format_table,
    human_bytes,
    level_for,
    masked,
    since_option,
    tail_option,
)
from bot.i18n import N_, _, ngettext

# Docker's own rule for container names ([a-zA-Z0-9][a-zA-Z0-9_.-]+); ids are hex and match it too.
_CONTAINER = re.compile(r"^/?[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_EXIT_CODE = re.compile(r"^Exited \((-?\d+)\)")
_ERROR_LINE = re.compile(
    r"\b(?:error|err|exception|fatal|panic|traceback|critical|oom\w*|outofmemory\w*|killed)\b"
    r"|\"\s5\d\d\s|\bstatus[=:]\s?5\d\d\b",
    re.IGNORECASE,
)
_UNREACHABLE_FIX = N_("is dockerd running and is the target's url right (unix socket path, tcp://host:2376)?")


# ---------------------------------------------------------------------------------- validation
def validate_container(value: str) -> str:
    if not _CONTAINER.match(value):
        raise UsageError(_("`{value}` is not a container name or id: use letters, digits, '_', '.' and '-', "
                           "starting with a letter or digit.", value=value[:80]))  # fmt: skip
    return value.lstrip("/")


def _validate_container_arg(args: list[str], options: dict[str, str]) -> None:
    if args:
        validate_container(args[0])


def _validate_logs(args: list[str], options: dict[str, str]) -> None:
    _validate_container_arg(args, options)
    tail_option(options)
    since_option(options)


# -------------------------------------------------------------------------------- engine access
def load_library() -> None:
    import docker  # noqa: F401


def _new_client(url: str, timeout: float) -> Any:
    import docker

    # The constructor asks the engine for its API version: a dead engine fails here, uncached.
    return docker.DockerClient(base_url=url, timeout=timeout).api


@contextmanager
def engine(ctx: CheckContext) -> Iterator[Any]:
    """The target's low-level API client; engine failures become a CheckFailed or TimeoutError."""
    import docker
    import requests

    if ctx.target is None:
        raise UsageError(_("No Docker engine configured: add one under `targets.docker` in the YAML policy."))
    url = ctx.target.url
    # The timeout is fixed when the client is built, so it is part of the cache key.
    key = ("docker", ctx.target_name, url, ctx.timeout)
    try:
        yield clients.get(key, lambda: _new_client(url, ctx.timeout))
    except docker.errors.NotFound as exc:
        raise UsageError(
            _("Not found on {target}: {error}.", target=ctx.target_name, error=exc.explanation or exc)
        ) from None
    except docker.errors.APIError as exc:
        raise CheckFailed(_("The Docker engine refused: {error}", error=exc.explanation or exc)) from None
    except requests.exceptions.Timeout:
        raise TimeoutError(_("the Docker engine at {url} did not answer within {limit} s", url=url,
                             limit=f"{ctx.timeout:g}")) from None  # fmt: skip
    except (requests.exceptions.ConnectionError, docker.errors.DockerException, OSError) as exc:
        raise CheckFailed(_("Can't connect to the Docker engine at {url}: {error}", url=url, error=_short(exc)),
                          _UNREACHABLE_FIX) from None  # fmt: skip


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


def container_name(container: dict[str, Any]) -> str:
    names = container.get("Names") or [container.get("Name") or container.get("Id", "?")[:12]]
    return str(names[0]).lstrip("/")


def _exit_code(status: str) -> int | None:
    match = _EXIT_CODE.match(status)
    return int(match.group(1)) if match else None


# -------------------------------------------------------------------------------------------- ps
def _exited_finding(name: str, code: int) -> tuple[Level, str, str]:
    restart = f"/remediate docker restart {name}"
    if code == 137:
        return (Level.CRIT, _("container {name} exited with code 137 (killed: SIGKILL, often the OOM killer)", name=name),
                _("/diag docker inspect {name} shows OOMKilled; {fix}: {restart}", name=name, fix=_(Fix.OOM),
                  restart=restart))  # fmt: skip
    if code == 0:
        return (Level.WARN, _("container {name} exited (0)", name=name),
                _("if it should be running: /diag docker logs {name}, then {restart}", name=name, restart=restart))  # fmt: skip
    return (Level.CRIT, _("container {name} exited with code {code}", name=name, code=code),
            f"/diag docker logs {name}; {_(Fix.NOT_RUNNING)}; {restart}")  # fmt: skip


def _ps_finding(container: dict[str, Any]) -> tuple[Level, str, str] | None:
    name, state, status = container_name(container), container.get("State", ""), container.get("Status", "")
    if state == "exited":
        return _exited_finding(name, _exit_code(status) or 0)
    if state == "restarting":
        return (Level.CRIT, _("container {name} is restarting over and over", name=name),
                f"/diag docker logs {name}; {_(Fix.NOT_RUNNING)}")  # fmt: skip
    if state == "dead":
        return (Level.CRIT, _("container {name} is dead", name=name),
                _("{fix}; remove and recreate it", fix=_(Fix.NOT_RUNNING)))  # fmt: skip
    if "(unhealthy)" in status:
        return (Level.CRIT, _("container {name} is running but unhealthy", name=name),
                _("/diag docker inspect {name} shows the health check output; {fix}: /remediate docker restart {name}",
                  name=name, fix=_(Fix.HTTP_502)))  # fmt: skip
    if state == "paused":
        return (
            Level.WARN,
            _("container {name} is paused", name=name),
            _("unpause it: docker unpause {name}", name=name),
        )
    return None


def ps(ctx: CheckContext) -> Report:
    """docker ps -a: exited, restarting and unhealthy containers flagged."""
    with engine(ctx) as api:
        containers = api.containers(all=True)
    report = Report()
    flagged = [f for f in (_ps_finding(c) for c in containers) if f]
    for level, message, fix in sorted(flagged, key=lambda f: -f[0].rank):
        report.add(level, message, fix)
    running = sum(1 for c in containers if c.get("State") == "running")
    if not containers:
        report.ok(_("no containers on this engine"))
    elif not flagged:
        report.ok(_("all {n} containers are running and healthy", n=len(containers)))
    else:
        report.ok(_("{running} of {n} containers running", running=running, n=len(containers)))
    rows = [
        [
            container_name(c),
            c.get("Image", ""),
            c.get("State", ""),
            c.get("Status", ""),
            _ports(c.get("Ports") or []),
        ]
        for c in sorted(containers, key=container_name)
    ]
    report.detail = format_table(["NAMES", "IMAGE", "STATE", "STATUS", "PORTS"], rows)
    report.data["containers"] = {container_name(c): c.get("State") for c in containers}
    return report


def _ports(ports: list[dict[str, Any]]) -> str:
    shown = []
    for port in ports:
        inside = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
        shown.append(
            f"{port.get('IP', '')}:{port['PublicPort']}->{inside}" if port.get("PublicPort") else inside
        )
    return ", ".join(dict.fromkeys(shown))


# ------------------------------------------------------------------------------------------ logs
def logs(ctx: CheckContext) -> Report:
    """docker logs --tail N [--since], error lines counted, secrets masked."""
    name = validate_container(ctx.arg(0, N_("container name")))
    tail, since = tail_option(ctx.options), since_option(ctx.options)
    grep = [g.lower() for g in (ctx.options.get("grep") or "").split("|") if g]
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "tail": tail, "timestamps": False}
    if since:
        kwargs["since"] = int(time.time()) - since
    with engine(ctx) as api:
        raw = api.logs(name, **kwargs)
    # Logs are the application's bytes: a stray invalid byte must not abort the check.
    lines = clean(bytes(raw).decode("utf-8", errors="replace")).splitlines()
    shown = [ln for ln in lines if any(g in ln.lower() for g in grep)] if grep else lines
    errors = [ln for ln in lines if _ERROR_LINE.search(ln)]
    report = Report()
    if grep:
        report.ok(_("{name}: {n} of the last {total} lines match `{words}`", name=name, n=len(shown),
                    total=len(lines), words="|".join(grep)))  # fmt: skip
    if errors:
        report.warn(_("{name}: {errors} error lines in the last {total} lines — latest: {sample}", name=name,
                      errors=len(errors), total=len(lines), sample=clean_line(errors[-1], 200)),
                    f"{_(Fix.HTTP_500)}; {_(Fix.HTTP_502)}: /remediate docker restart {name}")  # fmt: skip
    elif lines and not grep:
        report.ok(_("{name}: no error lines in the last {total} lines", name=name, total=len(lines)))
    if not lines and since:
        report.ok(_("{scope}: no log lines in the last {seconds} s", scope=name, seconds=since))
    elif not lines:
        report.ok(_("{scope}: no log lines", scope=name))
    report.detail = f"==> {name} <==\n" + ("\n".join(shown) if shown else _("(no lines)"))
    report.data.update(container=name, lines=len(lines), error_lines=len(errors))
    return report


# ----------------------------------------------------------------------------------------- stats
def _cpu_percent(stats: dict[str, Any]) -> float | None:
    """docker stats' CPU %: the container's share of the host's CPU time between two samples."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get(
        "total_usage", 0
    )
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return cpu_delta / system_delta * cpus * 100.0


def _memory_used(memory: dict[str, Any]) -> int:
    """Usage without the page cache, as docker stats shows it (cgroup v1 and v2 name it differently)."""
    usage = int(memory.get("usage") or 0)
    extra = memory.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in extra and extra[key] < usage:
            return usage - int(extra[key])
    return usage


def stats(ctx: CheckContext) -> Report:
    """docker stats --no-stream: CPU %, memory usage / limit %, PIDs (takes about a second)."""
    name = validate_container(ctx.arg(0, N_("container name")))
    with engine(ctx) as api:
        info = api.inspect_container(name)
        running = (info.get("State") or {}).get("Running", False)
        sample = api.stats(name, stream=False) if running else {}
    report = Report()
    if not running:
        status = (info.get("State") or {}).get("Status", "not running")
        report.warn(_("container {name} is {status}: no live statistics", name=name, status=status),
                    f"/diag docker logs {name}; /remediate docker restart {name}")  # fmt: skip
        report.detail = format_pairs([("CONTAINER", name), ("STATE", status)])
        return report
    cpu = _cpu_percent(sample)
    memory = sample.get("memory_stats") or {}
    used, limit = _memory_used(memory), int(memory.get("limit") or 0)
    has_limit = bool((info.get("HostConfig") or {}).get("Memory"))
    ratio = used / limit if limit else 0.0
    _stats_findings(report, name, cpu, used, limit, ratio, has_limit)
    pids = (sample.get("pids_stats") or {}).get("current")
    report.detail = format_table(
        ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"],
        [[name, "-" if cpu is None else f"{cpu:.2f}%", f"{human_bytes(used)} / {human_bytes(limit)}",
          f"{ratio * 100:.2f}%", pids if pids is not None else "-"]],
    )  # fmt: skip
    report.data.update(
        cpu_percent=cpu, memory_used=used, memory_limit=limit, memory_percent=ratio * 100, pids=pids
    )
    return report


def _stats_findings(
    report: Report, name: str, cpu: float | None, used: int, limit: int, ratio: float, has_limit: bool
) -> None:
    level = level_for(ratio, warn=0.8, crit=0.9) if has_limit else Level.OK
    memory = _(
        "{used} of {limit} ({percent})",
        used=human_bytes(used),
        limit=human_bytes(limit),
        percent=f"{ratio * 100:.0f}%",
    )
    if level is not Level.OK:
        report.add(level, _("container {name} uses {memory} of its memory limit", name=name, memory=memory),
                   _("{fix}: /remediate docker restart {name}, then raise its memory limit", fix=_(Fix.OOM), name=name))  # fmt: skip
    elif has_limit:
        report.ok(_("container {name} memory {memory}", name=name, memory=memory))
    else:
        report.ok(_("container {name} memory {memory}, no memory limit set", name=name, memory=memory))
    if cpu is not None and cpu >= 90.0:
        report.warn(_("container {name} uses {percent} CPU", name=name, percent=f"{cpu:.0f}%"), Fix.HTTP_504)
    elif cpu is not None:
        report.ok(_("container {name} CPU {percent}", name=name, percent=f"{cpu:.1f}%"))


# --------------------------------------------------------------------------------------- inspect
def inspect(ctx: CheckContext) -> Report:
    """docker inspect, summarised, with the environment redacted (PASS|SECRET|TOKEN|KEY values masked)."""
    from bot.security.redact import mask_data, mask_env_pairs

    name = validate_container(ctx.arg(0, N_("container name")))
    with engine(ctx) as api:
        info = api.inspect_container(name)
    state, config, host = info.get("State") or {}, info.get("Config") or {}, info.get("HostConfig") or {}
    report = Report()
    _inspect_findings(report, name, state, int(info.get("RestartCount") or 0))
    env = mask_env_pairs(config.get("Env") or [])
    command = clean_line(" ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]), 300)
    health = state.get("Health") or {}
    pairs: list[tuple[str, Any]] = [
        ("Name", info.get("Name", "").lstrip("/")),
        ("Id", info.get("Id", "")[:12]),
        ("Image", config.get("Image")),
        ("Command", command),
        ("Created", info.get("Created")),
        ("State", _state_line(state)),
        (
            "Started / finished",
            f"{docker_time(state.get('StartedAt'))} / {docker_time(state.get('FinishedAt'))}",
        ),
        ("Restart count", info.get("RestartCount", 0)),
        ("Restart policy", (host.get("RestartPolicy") or {}).get("Name") or "no"),
        ("Health", health.get("Status", "no health check")),
        ("Memory limit", human_bytes(host["Memory"]) if host.get("Memory") else "none"),
        ("CPUs", f"{host['NanoCpus'] / 1e9:g}" if host.get("NanoCpus") else "unlimited"),
        ("Network mode", host.get("NetworkMode")),
        ("Ports", ", ".join(sorted((info.get("NetworkSettings") or {}).get("Ports") or {})) or "-"),
        ("Mounts", ", ".join(_mount(m) for m in info.get("Mounts") or []) or "-"),
    ]
    sections = [format_pairs(pairs), "Env:\n" + "\n".join(f"  {line}" for line in env)]
    labels = mask_data(config.get("Labels") or {})
    if labels:
        sections.append("Labels:\n" + "\n".join(f"  {k}={v}" for k, v in sorted(labels.items())))
    if health.get("Log"):
        last = health["Log"][-1]
        output = last.get("Output", "").strip() or "(no output)"
        sections.append(f"Last health check (exit {last.get('ExitCode')}): {clean(output)}")
    report.detail = clean("\n\n".join(sections))
    report.data.update(container=name, state=state.get("Status"), exit_code=state.get("ExitCode"),
                       oom_killed=state.get("OOMKilled", False), restart_count=info.get("RestartCount", 0))  # fmt: skip
    return report


def _state_line(state: dict[str, Any]) -> str:
    parts = [str(state.get("Status", "?"))]
    if state.get("Status") == "exited":
        parts.append(f"exit code {state.get('ExitCode')}")
    if state.get("OOMKilled"):
        parts.append("OOMKilled")
    if state.get("Error"):
        parts.append(f"error: {state['Error']}")
    return ", ".join(parts)


def _mount(mount: dict[str, Any]) -> str:
    source = mount.get("Name") or mount.get("Source", "")
    return f"{source}:{mount.get('Destination', '')}{'' if mount.get('RW', True) else ':ro'}"


def _inspect_findings(report: Report, name: str, state: dict[str, Any], restarts: int) -> None:
    status, code = state.get("Status"), state.get("ExitCode")
    if state.get("OOMKilled"):
        report.crit(_("container {name} was OOMKilled (内存溢出)", name=name),
                    f"{_(Fix.OOM)}: /remediate docker restart {name}")  # fmt: skip
    elif status == "exited":
        level, message, fix = _exited_finding(name, int(code or 0))
        report.add(level, message, fix)
    elif status == "restarting":
        report.crit(_("container {name} is restarting over and over", name=name),
                    f"/diag docker logs {name}; {_(Fix.NOT_RUNNING)}")  # fmt: skip
    if (state.get("Health") or {}).get("Status") == "unhealthy":
        report.crit(
            _("container {name} is unhealthy", name=name),
            f"{_(Fix.HTTP_502)}: /remediate docker restart {name}",
        )
    if restarts:
        report.warn(ngettext("container {name} has restarted {n} time", "container {name} has restarted {n} times",
                             restarts, name=name), f"/diag docker logs {name}")  # fmt: skip
    if not report.findings:
        running_for = age_of(state.get("StartedAt")) if status == "running" else None
        if running_for:
            report.ok(_("container {name} is {status} for {age}", name=name, status=status, age=running_for))
        else:
            report.ok(_("container {name} is {status}", name=name, status=status))


def docker_time(value: str | None) -> str:
    """Docker writes "never" as year 1."""
    return "-" if not value or value.startswith("0001-") else value


def age_of(value: str | None) -> str | None:
    if docker_time(value) == "-":
        return None
    try:
        # Docker's timestamps carry nanoseconds, which fromisoformat (3.11) does not take.
        when = datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", str(value)).replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --------------------------------------------------------------------------------------------- df
# ---------------------------------------------------------------------------------------- adapter


ADAPTER = Adapter(
        name="docker",
        summary=N_("Docker engine: containers, logs, stats, inspect (env redacted), disk usage (read-only)"),
        target_kind="docker",
        default_check="ps",
        load=load_library,
        checks={
            "ps": Check("ps", masked(ps), N_("containers, with exited / restarting / unhealthy flagged"),
                        guide="docker ps | grep ecommerce-app", max_args=0, options=()),
            "logs": Check("logs", masked(logs), N_("recent log lines of a container, error lines counted"),
                          usage="<container> [tail=100] [since=10m] [grep=error]",
                          guide="docker logs ecommerce-app --tail=100", min_args=1, max_args=1,
                          options=("tail", "since", "grep"), validate=_validate_logs),
            "stats": Check("stats", masked(stats), N_("CPU %, memory usage / limit % of a container"),
                           usage="<container>", guide="docker stats ecommerce-app", min_args=1, max_args=1,
                           options=(), validate=_validate_container_arg),
            "inspect": Check("inspect", masked(inspect), N_("state, limits, mounts and env (secrets redacted)"),
                             usage="<container>", guide="docker inspect ecommerce-app", min_args=1,
                             max_args=1, options=(), validate=_validate_container_arg),
        },
    )  # fmt: skip
