"""The contract of a remediation: validate offline, preview (read only), apply (the one change).

`preview(ctx)` reads the current state and says what will change (before → after); it raises
`Refused` when the change must not happen (out of bounds, grow-only, the bot's own connection…).
`apply(ctx)` makes the change, after re-checking what the preview promised (`ctx.expect`), and says
what it did. Both reach their engines through the diagnostics adapters' cached clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config.policy import Policy
from bot.diagnostics.base import CheckContext
from bot.i18n import _


class Refused(Exception):
    """The change is not allowed; `code` names the rule (out_of_bounds, grow_only, …), the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Change:
    what: str  # "replicas"
    before: str  # "3"
    after: str  # "5"

    def __str__(self) -> str:
        return f"{self.what} {self.before} → {self.after}"


@dataclass
class Preview:
    title: str  # "Scale deployment ecommerce/ecommerce-app"
    changes: list[Change]
    facts: list[tuple[str, str]] = field(default_factory=list)  # current state, masked
    note: str = ""  # what happens next, caveats
    expect: dict[str, Any] = field(default_factory=dict)  # signed into the token; apply re-checks it


@dataclass
class Applied:
    summary: str  # "Scaled deployment ecommerce/ecommerce-app to 5 replicas"
    changes: list[Change]
    facts: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # Sent once by DM to the requester only and never recorded (a new access key's secret).
    private: str = ""
    # A second remediation this one calls for (`aws main deactivate-key bob`): previewed at once, for the
    # requester, with its own Confirm button — the second confirm of a two-step procedure.
    follow_up: str = ""


@dataclass
class ActionContext:
    policy: Policy
    target_name: str
    target: Any  # the pydantic target from policy.targets.<kind>[name]
    args: list[str]
    options: dict[str, str]
    timeout: float
    expect: dict[str, Any] = field(default_factory=dict)

    def check(self, timeout: float | None = None) -> CheckContext:
        """The diagnostics context the adapters' client factories take."""
        return CheckContext(
            policy=self.policy,
            target_name=self.target_name,
            target=self.target,
            args=list(self.args),
            timeout=self.timeout if timeout is None else timeout,
            options=dict(self.options),
        )


Validator = Callable[[Policy, list[str], dict[str, str]], None]


@dataclass(frozen=True)
class Action:
    kind: str  # k8s, docker, aws, mysql (a key of policy.targets)
    verb: str  # restart, scale, ebs-grow, kill
    usage: str  # "<deployment> <replicas> [ns=<namespace>]"
    summary: str
    guide: str  # the guide's command this replaces
    args: int  # number of required positional arguments
    preview: Callable[[ActionContext], Preview]
    apply: Callable[[ActionContext], Applied]
    options: tuple[str, ...] = ()
    validate: Callable[[list[str], dict[str, str]], None] | None = None  # syntax: UsageError
    bounds: Validator | None = None  # policy limits known offline: Refused
    # How long apply may take beyond the diagnostics timeout (a docker restart waits for the stop).
    apply_grace: float = 0.0
    optional_args: int = 0  # positional arguments that may follow the required ones (`rollback <d> [rev]`)

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.verb}"


def whole_number(value: str, what: str) -> int:
    """A non-negative integer typed by a person; a UsageError naming `what` otherwise."""
    from bot.diagnostics.base import UsageError

    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise UsageError(_("{what} must be a whole number, not `{value}`.", what=_(what), value=value[:40]))
    return int(value)
