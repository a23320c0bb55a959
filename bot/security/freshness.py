"""Contact freshness (CHECK:DOC-002): is everyone a page would reach still reachable?

Every escalation target of every desk and every rotation member is looked up in Slack: a user
must exist and not be deactivated; a user group must exist and not be empty. Where a desk pages
by SMS or e-mail (someone on it has a number or an address under `contacts`), everyone on that desk
should have one too — otherwise that person's page is a DM only. Run weekly (bot.security.periodic)
and by `warroom doctor`; the findings go to `announce_channel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.config.policy import Policy
from bot.i18n import _
from bot.ports import ChatError


class DirectoryPort(Protocol):
    """Looking people up in the chat platform's directory."""

    def user_status(self, user_id: str) -> str:
        """ "active", "deactivated" or "not_found"; ChatError when the platform cannot say."""
        ...

    def group_members(self, group_id: str) -> list[str]: ...


@dataclass(frozen=True)
class Finding:
    target: str  # U…, S…, rotation:<name>
    where: str  # "desk default, tier1" / "rotation primary"
    problem: str  # what is wrong, in words
    fix: str  # what to do


@dataclass(frozen=True)
class Report:
    checked: int  # distinct users and groups looked up
    findings: list[Finding]


def _places(policy: Policy) -> dict[str, list[str]]:
    """Every user or group a page may reach → where the policy names it."""
    places: dict[str, list[str]] = {}
    desks = {"default": policy.escalation, **policy.escalation_policies}
    for desk, ladder in desks.items():
        for tier in ladder.tiers:
            for target in tier.targets:
                where = _("desk {desk}, {tier}", desk=desk, tier=tier.name)
                if target.startswith("rotation:"):
                    rotation = policy.rotations.get(target.removeprefix("rotation:"))
                    for user in rotation.users if rotation else []:
                        places.setdefault(user, []).append(where + f" ({target})")
                else:
                    places.setdefault(target, []).append(where)
    for name, rotation in policy.rotations.items():
        for user in rotation.users:
            places.setdefault(user, []).append(_("rotation {name}", name=name))
    return places


def _desk_people(policy: Policy) -> dict[str, set[str]]:
    desks = {"default": policy.escalation, **policy.escalation_policies}
    people: dict[str, set[str]] = {}
    for desk, ladder in desks.items():
        for tier in ladder.tiers:
            for target in tier.targets:
                if target.startswith("rotation:"):
                    rotation = policy.rotations.get(target.removeprefix("rotation:"))
                    people.setdefault(desk, set()).update(rotation.users if rotation else [])
                elif target.startswith(("U", "W")):
                    people.setdefault(desk, set()).add(target)
    return people


def check(policy: Policy, directory: DirectoryPort) -> Report:
    """Look everyone up; the findings, most urgent first (missing people, then empty groups, then channels)."""
    places = _places(policy)
    findings: list[Finding] = []
    for target in sorted(places):
        where = "; ".join(dict.fromkeys(places[target]))
        try:
            if target.startswith("S"):
                if not directory.group_members(target):
                    findings.append(Finding(target, where, _("the user group is empty: a page to it reaches nobody"),
                                            _("add the on-call people to the group in Slack, or replace it in the policy")))  # fmt: skip
                continue
            status = directory.user_status(target)
        except ChatError as exc:
            if exc.code in ("no_such_subteam", "subteam_not_found"):
                findings.append(Finding(target, where, _("no such user group in Slack"),
                                        _("replace the group id in the policy")))  # fmt: skip
            else:
                findings.append(Finding(target, where, _("Slack could not say ({code})", code=exc.code),
                                        _("check the bot token's scopes (users:read, usergroups:read)")))  # fmt: skip
            continue
        if status == "not_found":
            findings.append(
                Finding(target, where, _("no such user in Slack"), _("remove or replace them in the policy"))
            )
        elif status == "deactivated":
            findings.append(Finding(target, where, _("deactivated in Slack (left the company?)"),
                                    _("remove them from the policy and hand their shifts over")))  # fmt: skip
    for desk, people in sorted(_desk_people(policy).items()):
        contacts = {user: policy.contacts.get(user) for user in people}
        for medium in ("sms", "email"):
            having = {u for u, c in contacts.items() if c is not None and getattr(c, medium)}
            if not having:
                continue  # this desk does not page by this medium
            for user in sorted(people - having):
                findings.append(
                    Finding(user, _("desk {desk}", desk=desk),
                            _("no {medium} under contacts, though the rest of the desk is paged by {medium}", medium=medium.upper()),
                            _("add contacts.{user}.{medium} to the policy", user=user, medium=medium))
                )  # fmt: skip
    return Report(checked=len(places), findings=findings)


def report_text(report: Report) -> str:
    """The findings as plain domain text (mentions as <@U…>); the port escapes it at the edge."""
    if not report.findings:
        return _(
            "📇 Contact check: all {count} people and groups a page can reach are current.",
            count=report.checked,
        )
    lines = [
        _("📇 Contact check: {problems} problem(s) among {count} people and groups a page can reach (CHECK:DOC-002):",
          problems=len(report.findings), count=report.checked)
    ]  # fmt: skip
    for f in report.findings:
        # A group mention would be escaped at the edge (it could notify the whole group): its id, plainly.
        who = f"<@{f.target}>" if f.target.startswith(("U", "W")) else _("user group {id}", id=f.target)
        lines.append(f"• {who} ({f.where}): {f.problem} — {f.fix}")
    return "\n".join(lines)
