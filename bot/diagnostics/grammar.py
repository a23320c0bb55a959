"""Parsing `/diag` text into a command, offline, so every mistake is answered in the ack.

Form: `/diag <adapter> [target] <check> [args] [key=value…]`, plus `/diag triage <service>` and
`/diag help [adapter]`. The target may be left out when the policy names exactly one target of
that kind; the check may be left out for the adapter's default (`/diag mysql orders`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Literal

from bot.config.policy import Policy
from bot.diagnostics import registry
from bot.diagnostics.base import Adapter, Check, UsageError
from bot.i18n import _
from bot.security.redact import mask

# key=value options: the key is a plain word, so a URL with a query string stays one positional arg.
_OPTION = re.compile(r"^([a-z][a-z0-9_-]{0,31})=(.*)$", re.DOTALL)
# Slack may send links and mentions in its own markup: <http://x|label>, <http://x>.
_SLACK_LINK = re.compile(r"<((?:https?|tcp|redis|mysql)[^|>\s]*)(?:\|[^>]*)?>")
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
HELP_WORDS = ("help", "-h", "--help", "?")


@dataclass(frozen=True)
class Command:
    kind: Literal["help", "check", "triage"]
    adapter: str | None = None
    target: str | None = None
    check: str | None = None
    args: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    help: str = ""  # the text to show, for kind == "help"
    service: str | None = None  # for kind == "triage"

    @property
    def text(self) -> str:
        """The command as it will be audited and shown: normalised (target and check filled in) and masked."""
        if self.kind == "triage":
            return f"triage {self.service}"
        if self.kind == "help":
            return "help" + (f" {self.adapter}" if self.adapter else "")
        opts = [f"{k}={v}" for k, v in self.options.items()]
        parts = [
            self.adapter or "",
            *([self.target] if self.target else []),
            self.check or "",
            *self.args,
            *opts,
        ]
        return mask(" ".join(parts))


def tokenize(text: str) -> list[str]:
    text = _SLACK_LINK.sub(r"\1", text.translate(_SMART_QUOTES))
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    try:
        return shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(
            _("Could not read that command ({error}). Close your quotes and try again.", error=exc)
        ) from exc


def known_names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else _("none")


def match_name(name: str, candidates: list[str]) -> str | None:
    if name in candidates:
        return name
    folded = [c for c in candidates if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def parse(policy: Policy, text: str) -> Command:
    tokens = tokenize(text)
    if not tokens or tokens[0].lower() in HELP_WORDS:
        return _help(policy, tokens[1] if len(tokens) > 1 else None)
    head, rest = tokens[0].lower(), tokens[1:]
    if head == "triage":
        return _triage(policy, rest)
    adapter = registry.get(head)
    if adapter is None:
        names = ["triage", *registry.adapters()]
        raise UsageError(
            _(
                "Unknown diagnostic `{name}`. Try one of: {known} — or `/diag help`.",
                name=tokens[0],
                known=known_names(names),
            )
        )
    if rest and rest[0].lower() in HELP_WORDS:
        return _help(policy, adapter.name)
    target, rest = _target(policy, adapter, rest)
    check, rest = _check(adapter, target, rest)
    args, options = split_options(rest)
    _validate(adapter, target, check, args, options)
    return Command("check", adapter.name, target, check.name, args, options)


def targets_of(policy: Policy, kind: str | None) -> list[str]:
    if kind is None:
        return []
    return list(getattr(policy.targets, kind, {}) or {})


def _help(policy: Policy, name: str | None) -> Command:
    if name is None:
        return Command("help", help=registry.overview_help())
    if name.lower() == "triage":
        services = list(policy.services)
        return Command(
            "help",
            adapter="triage",
            help=_(
                "*/diag triage <service>* — pods, events, recent error lines, health URL, database and "
                "cache of a service from `services:` in the YAML, in parallel. Services: {services}",
                services=known_names(services),
            ),
        )
    adapter = registry.get(name.lower())
    if adapter is None:
        raise UsageError(
            _(
                "No help for `{name}`. Adapters: {known}.",
                name=name,
                known=known_names(list(registry.adapters())),
            )
        )
    return Command(
        "help",
        adapter=adapter.name,
        help=registry.adapter_help(adapter, targets_of(policy, adapter.target_kind)),
    )


def _triage(policy: Policy, rest: list[str]) -> Command:
    services = list(policy.services)
    if not services:
        raise UsageError(_("No services to triage yet: describe them under `services:` in the YAML policy."))
    if not rest:
        if len(services) == 1:
            return Command("triage", service=services[0])
        raise UsageError(
            _("Which service? Type `/diag triage <service>`. Known: {known}.", known=known_names(services))
        )
    if len(rest) > 1:
        raise UsageError(
            _("`/diag triage` takes one service name, e.g. `/diag triage {service}`.", service=services[0])
        )
    name = match_name(rest[0], services)
    if name is None:
        raise UsageError(
            _("Unknown service `{name}`. Known: {known}.", name=rest[0], known=known_names(services))
        )
    return Command("triage", service=name)


def _target(policy: Policy, adapter: Adapter, rest: list[str]) -> tuple[str | None, list[str]]:
    if adapter.target_kind is None:
        return None, rest
    kind = adapter.target_kind
    names = targets_of(policy, kind)
    if not names:
        raise UsageError(
            _(
                "No {adapter} targets configured. Name one under `targets.{kind}` in the YAML policy, "
                "e.g. `{example}`.",
                adapter=adapter.name,
                kind=kind,
                example=f"targets: {{{kind}: {{main: …}}}}",
            )
        )
    if rest:
        found = match_name(rest[0], names)
        if found is not None:
            return found, rest[1:]
        # `/diag mysql connections` with a single target: the first word is the check, not a target.
        is_check = rest[0].lower() in adapter.checks
        if len(names) == 1 and is_check:
            return names[0], rest
        if is_check:
            raise UsageError(
                _(
                    "Which {adapter} target? Type `/diag {adapter} <target> {check}`. Known: {known}.",
                    adapter=adapter.name,
                    check=rest[0].lower(),
                    known=known_names(names),
                )
            )
        raise UsageError(
            _(
                "Unknown {adapter} target `{name}`. Known: {known}.",
                adapter=adapter.name,
                name=rest[0],
                known=known_names(names),
            )
        )
    if len(names) == 1:
        return names[0], rest
    raise UsageError(
        _(
            "Which {adapter} target? Type `/diag {adapter} <target>`. Known: {known}.",
            adapter=adapter.name,
            known=known_names(names),
        )
    )


def _check(adapter: Adapter, target: str | None, rest: list[str]) -> tuple[Check, list[str]]:
    if rest and rest[0].lower() in adapter.checks:
        return adapter.checks[rest[0].lower()], rest[1:]
    default = adapter.checks[adapter.default_check]
    if not rest or default.usage:
        return default, rest  # `/diag http <url>` = the default check with its argument
    where = f"{adapter.name} {target}" if target else adapter.name
    raise UsageError(
        _(
            "Unknown {adapter} check `{name}`. Type `/diag {where} <check>` with one of: {known}.",
            adapter=adapter.name,
            name=rest[0],
            where=where,
            known=known_names(list(adapter.checks)),
        )
    )


def split_options(rest: list[str]) -> tuple[list[str], dict[str, str]]:
    args: list[str] = []
    options: dict[str, str] = {}
    for token in rest:
        match = _OPTION.match(token)
        if match:
            options[match.group(1)] = match.group(2)
        else:
            args.append(token)
    return args, options


def usage_of(adapter: Adapter, target: str | None, check: Check) -> str:
    where = f"{adapter.name} {target}" if target else adapter.name
    return f"`/diag {where} {check.name}{' ' + check.usage if check.usage else ''}`"


def _validate(
    adapter: Adapter, target: str | None, check: Check, args: list[str], options: dict[str, str]
) -> None:
    usage = usage_of(adapter, target, check)
    if len(args) < check.min_args:
        raise UsageError(_("Missing arguments. Type {usage}.", usage=usage))
    if check.max_args is not None and len(args) > check.max_args:
        extra = " ".join(args[check.max_args :])
        raise UsageError(_("Too many arguments (`{extra}`). Type {usage}.", extra=extra, usage=usage))
    if check.options is not None:
        unknown = sorted(set(options) - set(check.options))
        if unknown:
            allowed = ", ".join(f"`{o}=`" for o in check.options) or _("no options")
            raise UsageError(
                _(
                    "`{command}` does not take `{option}=`; it takes {allowed}.",
                    command=f"{adapter.name} {check.name}",
                    option=unknown[0],
                    allowed=allowed,
                )
            )
    if check.validate is not None:
        try:
            check.validate(args, options)
        except UsageError as exc:
            raise UsageError(_("{error} Type {usage}.", error=exc, usage=usage)) from exc
