"""Parsing `/remediate` text, offline, so every mistake is answered in the ack and nothing runs.

Form: `/remediate <kind> [target] <action> <args> [ns=…]` and `/remediate help`. As with `/diag`, the
target may be left out when the policy names exactly one target of that kind; an unknown target
is answered with the known ones. Tokenizing (quotes, Slack's link markup) is the diagnostics grammar's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config.policy import Policy
from bot.diagnostics.base import UsageError
from bot.diagnostics.grammar import HELP_WORDS, known_names, match_name, split_options, targets_of, tokenize
from bot.i18n import _
from bot.remediation.actions import ACTIONS, KINDS, of_kind
from bot.remediation.actions.base import Action
from bot.security.redact import mask

COMMAND = "/remediate"


@dataclass(frozen=True)
class Request:
    action: str  # "k8s.scale"
    target: str
    args: list[str]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.action.split(".", 1)[0]

    @property
    def verb(self) -> str:
        return self.action.split(".", 1)[1]

    @property
    def text(self) -> str:
        """`k8s prod scale ecommerce-app 5`: the command as audited and shown (target filled in, masked)."""
        opts = [f"{k}={v}" for k, v in self.options.items()]
        return mask(" ".join([self.kind, self.target, self.verb, *self.args, *opts]))


@dataclass(frozen=True)
class Help:
    text: str


def usage(action: Action, target: str | None = None) -> str:
    where = f"{action.kind} {target}" if target else action.kind
    return f"`{COMMAND} {where} {action.verb} {action.usage}`"


def help_text(policy: Policy) -> str:
    lines = [
        _(
            "*{command}* — changes to infrastructure, each previewed and confirmed by a remediator:",
            command=COMMAND,
        )
    ]
    for action in ACTIONS.values():
        names = targets_of(policy, action.kind)
        lines.append(
            "• "
            + _(
                "{usage} — {summary} (the guide's `{guide}`); targets: {targets}",
                usage=usage(action),
                summary=_(action.summary),
                guide=action.guide,
                targets=known_names(names),
            )
        )
    ttl = int(policy.remediation.confirm_ttl.total_seconds())
    lines.append(
        _("The Confirm button works once, for {minutes} min {seconds} s", minutes=ttl // 60, seconds=ttl % 60)
        if ttl % 60
        else _("The Confirm button works once, for {minutes} min", minutes=ttl // 60)
    )
    return "\n".join(lines) + _("; only `roles.remediators` may press it.")


def parse(policy: Policy, text: str) -> Request | Help:
    tokens = tokenize(text)
    if not tokens or tokens[0].lower() in HELP_WORDS:
        return Help(help_text(policy))
    kind, rest = tokens[0].lower(), tokens[1:]
    if kind not in KINDS:
        raise UsageError(
            _(
                "Unknown remediation kind `{kind}`. Try one of: {known} — or `{command} help`.",
                kind=tokens[0],
                known=known_names(list(KINDS)),
                command=COMMAND,
            )
        )
    verbs = of_kind(kind)
    target, rest = _target(policy, kind, verbs, rest)
    if not rest:
        raise UsageError(
            _("Which action? Type {usages}.", usages=_(" or ").join(usage(a, target) for a in verbs.values()))
        )
    action = verbs.get(rest[0].lower())
    if action is None:
        raise UsageError(
            _(
                "Unknown {kind} remediation `{name}`. Type {usages}.",
                kind=kind,
                name=rest[0],
                usages=_(" or ").join(usage(a, target) for a in verbs.values()),
            )
        )
    args, options = split_options(rest[1:])
    most = action.args + action.optional_args
    if not action.args <= len(args) <= most:
        if len(args) < action.args:
            raise UsageError(_("Missing arguments. Type {usage}.", usage=usage(action, target)))
        extra = " ".join(args[most:])
        raise UsageError(
            _("Too many arguments (`{extra}`). Type {usage}.", extra=extra, usage=usage(action, target))
        )
    unknown = sorted(set(options) - set(action.options))
    if unknown:
        allowed = ", ".join(f"`{o}=`" for o in action.options) or _("no options")
        raise UsageError(
            _(
                "`{command}` does not take `{option}=`; it takes {allowed}.",
                command=f"{kind} {action.verb}",
                option=unknown[0],
                allowed=allowed,
            )
        )
    if action.validate is not None:
        try:
            action.validate(args, options)
        except UsageError as exc:
            raise UsageError(_("{error} Type {usage}.", error=exc, usage=usage(action, target))) from exc
    return Request(action.name, target, args, options)


def _target(policy: Policy, kind: str, verbs: dict[str, Action], rest: list[str]) -> tuple[str, list[str]]:
    names = targets_of(policy, kind)
    if not names:
        raise UsageError(
            _(
                "No {kind} targets configured. Name one under `targets.{kind}` in the YAML policy first.",
                kind=kind,
            )
        )
    if rest:
        found = match_name(rest[0], names)
        if found is not None:
            return found, rest[1:]
        is_verb = rest[0].lower() in verbs
        if is_verb and len(names) == 1:
            return names[0], rest
        if is_verb:
            raise UsageError(
                _(
                    "Which {kind} target? Type `{command} {kind} <target> {verb} …`. Known: {known}.",
                    kind=kind,
                    command=COMMAND,
                    verb=rest[0].lower(),
                    known=known_names(names),
                )
            )
        if len(names) == 1 and not (len(rest) > 1 and rest[1].lower() in verbs):
            # `/remediate k8s delete x` with one target: a wrong action, not a wrong target.
            return names[0], rest
        raise UsageError(
            _(
                "Unknown {kind} target `{name}`. Known: {known}.",
                kind=kind,
                name=rest[0],
                known=known_names(names),
            )
        )
    if len(names) == 1:
        return names[0], rest
    raise UsageError(
        _(
            "Which {kind} target? Type `{command} {kind} <target> <action>`. Known: {known}.",
            kind=kind,
            command=COMMAND,
            known=known_names(names),
        )
    )
