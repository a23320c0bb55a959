"""Running one check: resolve its target, bound it in time, catch its failures, mask its output, time it."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.config.policy import Policy
from bot.diagnostics import registry
from bot.diagnostics.base import (
    CheckContext,
    CheckFailed,
    CheckRefused,
    CheckResult,
    Finding,
    Level,
    Outcome,
    Report,
    UsageError,
)
from bot.i18n import _
from bot.security.redact import mask, mask_data, strip_ansi

REASON_LIMIT = 300
A = TypeVar("A")
T = TypeVar("T")


def format_seconds(seconds: float) -> str:
    return _("{seconds} s", seconds=f"{seconds:g}" if seconds < 10 else f"{seconds:.0f}")


def one_line(exc: BaseException) -> str:
    """A driver's exception as one readable line: its message, not its repr or traceback."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    line = " ".join(text.split())
    return mask(line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 1] + "…")


@dataclass
class Bounded(Generic[T]):
    """Where the worker thread leaves its result; the caller stops waiting at the deadline."""

    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None

    @property
    def finished(self) -> bool:
        return self.done.is_set()


def run_bounded(func: Callable[[A], T], arg: A, limit: float, name: str) -> Bounded[T]:
    """Run `func(arg)` in a daemon thread and wait at most `limit` seconds; the call may go on after.
    A daemon thread, not a pool: a call stuck in a driver must not hold up the next one or exit.
    The thread runs in a copy of the caller's context, so the language in force (a contextvar) is the
    caller's: findings built in the thread come out in the language of the person or workspace asking."""
    box: Bounded[T] = Bounded()

    def work() -> None:
        try:
            box.value = func(arg)
        except BaseException as exc:  # handed to the caller, which decides what it means
            box.error = exc
        finally:
            box.done.set()

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), daemon=True, name=name).start()
    box.done.wait(limit)
    return box


def call_bounded(func: Callable[[A], T], arg: A, limit: float, name: str) -> T:
    """`func(arg)`, or TimeoutError after `limit` seconds; the call's own exception is raised as is."""
    box = run_bounded(func, arg, limit, name)
    if not box.finished:
        raise TimeoutError(_("no answer within {limit}", limit=format_seconds(limit)))
    if box.error is not None:
        raise box.error
    return box.value  # type: ignore[return-value]  # finished without error: func returned it


def resolve_target(policy: Policy, kind: str | None, name: str | None) -> Any:
    if kind is None or name is None:
        return None
    targets = getattr(policy.targets, kind, {}) or {}
    if name not in targets:
        known = ", ".join(targets) or _("none")
        raise UsageError(
            _("Unknown {kind} target `{name}`. Known: {known}.", kind=kind, name=name, known=known)
        )
    return targets[name]


def run_check(
    policy: Policy,
    adapter_name: str,
    check_name: str,
    target_name: str | None = None,
    args: list[str] | None = None,
    options: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
) -> CheckResult:
    """Run one check to completion or to its timeout. Never raises, except UsageError for bad input."""
    adapter = registry.get(adapter_name)
    if adapter is None or check_name not in adapter.checks:
        raise UsageError(
            _("Unknown diagnostic `{command}`. Type `/diag help`.", command=f"{adapter_name} {check_name}")
        )
    check = adapter.checks[check_name]
    args, options = list(args or []), dict(options or {})
    if check.validate is not None:  # also for callers that skip the grammar, e.g. triage's YAML values
        check.validate(args, options)
    limit = timeout if timeout is not None else policy.diagnostics.timeout.total_seconds()
    if adapter.load is not None:
        adapter.load()
    ctx = CheckContext(
        policy=policy,
        target_name=target_name,
        target=resolve_target(policy, adapter.target_kind, target_name),
        args=args,
        timeout=limit,
        options=options,
    )
    started = time.monotonic()
    box = run_bounded(check.func, ctx, limit, f"diag-{adapter_name}")
    finished = box.finished
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)

    def result(outcome: Outcome, report: Report, error: str | None = None) -> CheckResult:
        return CheckResult(
            adapter=adapter_name,
            target=target_name,
            check=check_name,
            args=[mask(a) for a in args] + [mask(f"{k}={v}") for k, v in options.items()],
            outcome=outcome,
            findings=[
                # A fix that is one of Fix's constants is translated here, then masked like the rest.
                Finding(f.level, mask(strip_ansi(f.message)), mask(_(f.fix)) if f.fix else f.fix)
                for f in report.findings
            ],
            detail=mask(strip_ansi(report.detail)),
            elapsed_ms=elapsed_ms,
            error=error,
            data=mask_data(report.data),
            charts=list(report.charts),
        )

    # A client's own timeout (urllib3, kubernetes, PyMySQL) can fire a hair before ours: same outcome.
    client_timeout = box.error is not None and (
        isinstance(box.error, TimeoutError) or "timeout" in type(box.error).__name__.lower()
    )
    if not finished or client_timeout:
        reason = _("timed out after {limit}", limit=format_seconds(limit))
        finding = Finding(Level.CRIT, _("No answer: {reason}", reason=reason), adapter.timeout_fix)
        return result(Outcome.TIMEOUT, Report([finding]), reason)
    if isinstance(box.error, UsageError):
        raise box.error
    if isinstance(box.error, CheckRefused):
        reason = one_line(box.error)
        return result(
            Outcome.REFUSED, Report([Finding(Level.CRIT, _("Refused: {reason}", reason=reason))]), reason
        )
    if isinstance(box.error, CheckFailed):
        reason = one_line(box.error)
        return result(Outcome.ERROR, Report([Finding(Level.CRIT, reason, box.error.fix)]), reason)
    if box.error is not None:
        reason = one_line(box.error)
        return result(
            Outcome.ERROR, Report([Finding(Level.CRIT, _("Check failed: {reason}", reason=reason))]), reason
        )
    report = box.value or Report()
    return result(Outcome(report.level.value), report)
