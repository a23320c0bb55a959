"""The diagnostics contract: checks return findings (ok / warn / crit with the guide's fix) plus detail.

Every adapter module under bot/diagnostics/ builds one `Adapter` named `ADAPTER`, which
`bot.diagnostics.registry` lists. Checks are plain functions `(ctx: CheckContext) -> Report`;
the runner adds the timeout, timing, secret masking and error handling, so a check only
talks to its engine and turns numbers into findings.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from bot.config.policy import Policy
from bot.i18n import N_, _


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"

    @property
    def icon(self) -> str:
        return {"ok": "✅", "warn": "⚠️", "crit": "❌"}[self.value]

    @property
    def rank(self) -> int:
        return {"ok": 0, "warn": 1, "crit": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str
    fix: str | None = None  # the guide's suggested fix, shown beside warn/crit findings


@dataclass
class Report:
    """What a check hands back: findings first, then the detail (plain text, a table, log lines)."""

    findings: list[Finding] = field(default_factory=list)
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # structured figures, for tests and the timeline
    charts: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, PNG) to upload; never audited

    def ok(self, message: str) -> None:
        self.findings.append(Finding(Level.OK, message))

    def warn(self, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(Level.WARN, message, fix))

    def crit(self, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(Level.CRIT, message, fix))

    def add(self, level: Level, message: str, fix: str | None = None) -> None:
        # An OK finding never carries a fix: there is nothing to do.
        self.findings.append(Finding(level, message, fix if level is not Level.OK else None))

    @property
    def level(self) -> Level:
        return worst(f.level for f in self.findings)


def worst(levels: Any) -> Level:
    """The most severe level of an iterable of levels; OK when empty."""
    return max(levels, key=lambda level: level.rank, default=Level.OK)


def level_for(ratio: float, warn: float = 0.8, crit: float = 0.95) -> Level:
    """The guide's threshold rule for "x of a limit": ≥ 80 % warns; close to the limit is critical."""
    if ratio >= crit:
        return Level.CRIT
    if ratio >= warn:
        return Level.WARN
    return Level.OK


class Fix:
    """The guide's suggested fixes, quoted in its words so on-call engineers recognise them.

    Marked for the catalogs here; the runner translates a finding's fix when it renders the result."""

    TOO_MANY_CONNECTIONS = N_("Raise the connection limit or tune the pool (增加连接数限制或优化连接池)")
    KILL_STUCK_QUERY = N_("Kill the stuck query: `KILL <id>` or `/remediate mysql kill <id>` (杀死僵死连接)")
    SLOW_LOG = N_("SET GLOBAL slow_query_log = 'ON'; SET GLOBAL long_query_time = 1 (数据库慢查询)")
    DB_UNREACHABLE = N_("Check the network and the database service (检查网络连接和数据库服务状态)")
    DEPENDENCY = N_("Check the database / Redis connections (检查数据库/Redis连接)")
    REDIS_CLIENTS = N_("Kill idle clients (`client kill type normal`) or raise maxclients (清理过期连接)")
    REDIS_MEMORY = N_("`config set maxmemory 2gb`; `config set maxmemory-policy allkeys-lru` (配置调优)")
    REDIS_HIT_RATE = N_("Review TTLs and what is cached (Redis缓存命中率)")
    HTTP_500 = N_("Read the application logs, fix the bug (查看应用日志，修复代码bug)")
    HTTP_502 = N_("Check the application service, restart it (检查应用服务状态，重启服务)")
    HTTP_503 = N_("Check the load balancer, scale out (检查负载均衡配置，扩容实例)")
    HTTP_504 = N_("Speed up the application, adjust timeouts (优化应用性能，调整超时配置)")
    HTTP_404 = N_("Check the routes and the resource path (检查路由配置，确认资源路径)")
    SLOW_RESPONSE = N_("Profile the app, its slow queries and cache hit rate (性能优化检查清单)")
    NETWORK = N_("Check the firewall, routes and the service's port (端口连通性检查, 防火墙规则检查)")
    DNS = N_("Check the records and flush DNS caches (`resolvectl flush-caches`) (DNS解析检查)")
    TLS_EXPIRY = N_("Renew the certificate before it expires and redeploy it")
    TLS_TRUST = N_("Serve the full chain from a trusted CA, issued for this host name")
    OOM = N_("Restart the service, raise its memory limit (重启服务，调整内存限制)")
    NOT_RUNNING = N_("Read the logs, fix the config, redeploy (修正配置文件，重新部署)")
    HTTP_TIMEOUT = N_(
        "Is the port open (`/diag tcp <host>:<port>`)? If it is, the application accepted the connection "
        "but is hung or overloaded: read its logs, its workers/threads and its database and cache "
        "(`/diag triage`); if not, a firewall drops the traffic or the host is down (优化应用性能，调整超时配置)"
    )
    NOT_TLS = N_("Point the check at the TLS port (usually 443), or enable TLS on this listener")
    DISK = N_("Clean up (`docker system prune`, old logs) or grow the volume (磁盘空间不足)")


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    ERROR = "error"  # the check could not run (connection refused, bad credentials, API error)
    TIMEOUT = "timeout"
    REFUSED = "refused"  # refused by our own safety rules before touching anything

    @property
    def label(self) -> str:
        """The outcome as shown to people, marked for the catalogs: translate it with `_(outcome.label)`."""
        return _OUTCOME_LABELS[self.value]


_OUTCOME_LABELS = {
    "ok": N_("ok"),
    "warn": N_("warn"),
    "crit": N_("crit"),
    "error": N_("error"),
    "timeout": N_("timeout"),
    "refused": N_("refused"),
}


@dataclass
class CheckResult:
    adapter: str
    target: str | None
    check: str
    args: list[str]
    outcome: Outcome
    findings: list[Finding]
    detail: str
    elapsed_ms: float
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    charts: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def command(self) -> str:
        parts = [self.adapter, *([self.target] if self.target else []), self.check, *self.args]
        return " ".join(parts)


class UsageError(ValueError):
    """Bad `/diag` input; the message says what to type instead."""


class CheckRefused(Exception):
    """A safety rule refused the request (e.g. a metadata address); the message says why."""


class CheckFailed(Exception):
    """The check could not reach or read its engine; a one-line reason and, when known, the guide's fix.

    Adapters raise it to replace a driver's raw exception text with something an on-call engineer
    can act on ("Can't connect to MySQL at db:3306: connection refused").
    """

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


@dataclass
class CheckContext:
    policy: Policy
    target_name: str | None
    target: Any  # the pydantic target model from policy.targets.<kind>[name], or None
    args: list[str]
    timeout: float
    options: dict[str, str] = field(default_factory=dict)  # key=value arguments, e.g. tail=100

    def arg(self, index: int, what: str) -> str:
        """The positional argument at `index`; a UsageError naming `what` (marked N_) when it is missing."""
        if index >= len(self.args):
            raise UsageError(_("Missing {what}.", what=_(what)))
        return self.args[index]

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)

    def int_option(self, name: str, default: int, *, low: int = 0, high: int = 1_000_000) -> int:
        raw = self.options.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise UsageError(
                _(
                    "`{name}=` takes a whole number from {low} to {high}, not `{raw}`.",
                    name=name,
                    low=low,
                    high=high,
                    raw=raw,
                )
            )
        return int(raw)

    def seconds_option(self, name: str, default: float) -> float:
        """A duration option such as `over=300`, `since=10m`, `slow=500ms` (bare numbers are seconds)."""
        raw = self.options.get(name)
        return default if raw is None else parse_seconds(name, raw)


def parse_seconds(name: str, raw: str) -> float:
    """`300`, `30s`, `5m`, `1h`, `500ms` → seconds; a UsageError naming the option otherwise."""
    match = _DURATION.match(raw.strip().lower())
    if not match:
        raise UsageError(_("`{name}=` takes a duration like 30s, 5m or 1h, not `{raw}`.", name=name, raw=raw))
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


CheckFunc = Callable[[CheckContext], Report]


@dataclass(frozen=True)
class Check:
    name: str
    func: CheckFunc
    summary: str  # one line for the help text
    usage: str = ""  # e.g. "<pod|deployment/name> [tail=100] [since=10m] [grep=error]"
    guide: str = ""  # the guide's command this mirrors, e.g. "kubectl get pods"
    # Checked by the grammar before anything runs; None means "any".
    min_args: int = 0
    max_args: int | None = None
    options: tuple[str, ...] | None = None  # allowed key=value option names
    # Offline validation of (args, options), run while parsing so bad input is answered in the ack.
    validate: Callable[[list[str], dict[str, str]], None] | None = None


@dataclass(frozen=True)
class Adapter:
    name: str  # k8s, docker, mysql, redis, http, dns, tcp, tls, aws
    summary: str
    checks: dict[str, Check]
    default_check: str
    target_kind: str | None = None  # key under policy.targets, or None for adapters that take a host/URL
    timeout_fix: str | None = None  # what to check when a check of this adapter gets no answer in time
    # Imports the adapter's client library. The runner calls it before the clock starts: a cold import
    # of kubernetes or boto3 on a busy host takes seconds, and that is not the engine being silent.
    load: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if self.default_check not in self.checks:
            raise ValueError(
                f"adapter {self.name}: default check {self.default_check!r} is not one of its checks"
            )


T = TypeVar("T")


class ClientCache:
    """Process-wide cache of engine clients, built on first use so the bot starts without connecting.

    Keyed by whatever identifies the client (adapter, target name, the target's settings), so a
    policy reload with changed settings builds a new client instead of reusing a stale one.
    """

    def __init__(self) -> None:
        self._clients: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, factory: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory()
            return self._clients[key]  # type: ignore[no-any-return]

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


clients = ClientCache()


def format_table(headers: list[str], rows: list[list[Any]], *, max_width: int = 60) -> str:
    """A plain-text table for a code block (what kubectl and mysql print), cells clipped to max_width."""

    def cell(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    grid = [[cell(h) for h in headers], *[[cell(v) for v in row] for row in rows]]
    widths = [max(len(line[i]) for line in grid) for i in range(len(headers))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in grid
    )


def format_pairs(pairs: list[tuple[str, Any]]) -> str:
    """`name   value` lines, aligned."""
    width = max((len(name) for name, _value in pairs), default=0)
    return "\n".join(f"{name.ljust(width)}  {'' if value is None else value}" for name, value in pairs)


def percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


# --------------------------------------------------------------------------- masking, in one place
def clean(text: str) -> str:
    """Engine output made safe to show: ANSI codes stripped, secrets masked."""
    from bot.security.redact import mask, strip_ansi

    return mask(strip_ansi(text))


def clean_line(text: str, limit: int) -> str:
    """Free text on one line, masked BEFORE it is cut: half a secret no longer matches the patterns."""
    text = clean(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def masked(func: CheckFunc) -> CheckFunc:
    """Defence in depth: the runner masks too, but a check called directly (triage) must not leak.
    A fix that is one of `Fix`'s constants is translated here, masked after (the language's text)."""

    def run(ctx: CheckContext) -> Report:
        report = func(ctx)
        report.findings = [
            Finding(f.level, clean(f.message), clean(_(f.fix)) if f.fix else f.fix) for f in report.findings
        ]
        report.detail = clean(report.detail)
        return report

    run.__name__, run.__doc__ = func.__name__, func.__doc__
    return run


# ----------------------------------------------------------------------- log window options
MAX_TAIL = 2000


def tail_option(options: dict[str, str]) -> int:
    """`tail=` for log checks: 1…MAX_TAIL lines, 100 by default."""
    raw = options.get("tail", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TAIL:
        raise UsageError(
            _("`tail=` takes a number of lines from 1 to {most}, not `{raw}`.", most=MAX_TAIL, raw=raw)
        )
    return int(raw)


def since_option(options: dict[str, str]) -> int | None:
    """`since=10m` in whole seconds (what the engines' APIs take), None when not given."""
    from bot.config.durations import parse_duration

    raw = options.get("since")
    if raw is None:
        return None
    try:
        seconds = int(parse_duration(raw).total_seconds())
    except ValueError:
        raise UsageError(
            _("`since=` takes a duration like 30s, 10m, 2h or 1d, not `{raw}`.", raw=raw)
        ) from None
    if seconds < 1:
        raise UsageError(_("`since=` must be at least 1s."))
    return seconds
