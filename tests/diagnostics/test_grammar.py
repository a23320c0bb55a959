"""The `/diag` grammar: shortcuts, single-target omission, help, and errors that say what to type."""

from __future__ import annotations

import pytest

from bot.config.policy import Policy
from bot.diagnostics.base import UsageError
from bot.diagnostics.grammar import parse
from tests.diagnostics.conftest import make_policy


def test_adapter_and_target_run_the_default_check(policy: Policy) -> None:
    command = parse(policy, "mysql orders")
    assert (command.kind, command.adapter, command.target, command.check) == (
        "check",
        "mysql",
        "orders",
        "connections",
    )
    assert command.text == "mysql orders connections"


def test_a_single_target_may_be_left_out(policy: Policy) -> None:
    assert parse(policy, "redis clients").target == "cache"
    assert parse(policy, "redis").target == "cache"


def test_with_several_targets_the_target_is_asked_for(policy: Policy) -> None:
    with pytest.raises(UsageError, match=r"Which mysql target\? Type `/diag mysql <target> connections`"):
        parse(policy, "mysql connections")


def test_unknown_target_names_the_known_ones(policy: Policy) -> None:
    with pytest.raises(UsageError) as info:
        parse(policy, "mysql x")
    assert str(info.value) == "Unknown mysql target `x`. Known: `orders`, `reports`."


def test_unknown_check_and_adapter(policy: Policy) -> None:
    with pytest.raises(
        UsageError, match=r"Unknown mysql check `bogus`\..*`connections`, `processlist`, `slowlog`"
    ):
        parse(policy, "mysql orders bogus")
    with pytest.raises(UsageError, match=r"Unknown diagnostic `nope`\. Try one of: `triage`.*`mysql`"):
        parse(policy, "nope")


def test_no_targets_configured_says_where_to_add_them() -> None:
    with pytest.raises(UsageError, match=r"targets\.mysql"):
        parse(Policy(), "mysql")


def test_options_and_arguments(policy: Policy) -> None:
    command = parse(policy, "mysql orders processlist over=10m")
    assert command.options == {"over": "10m"}
    with pytest.raises(UsageError, match="does not take `tail=`"):
        parse(policy, "mysql orders processlist tail=5")
    with pytest.raises(UsageError, match="takes a duration"):
        parse(policy, "mysql orders processlist over=soon")
    with pytest.raises(UsageError, match="Too many arguments"):
        parse(policy, "mysql orders connections extra")


def test_urls_with_query_strings_and_slack_link_markup(policy: Policy) -> None:
    assert parse(policy, "http http://shop.test/a?b=c").args == ["http://shop.test/a?b=c"]
    assert parse(policy, "http <http://shop.test/health|shop.test/health>").args == [
        "http://shop.test/health"
    ]
    assert parse(policy, "http get <https://shop.test/x?a=1&amp;b=2>").args == ["https://shop.test/x?a=1&b=2"]


def test_unclosed_quotes_are_a_usage_error(policy: Policy) -> None:
    with pytest.raises(UsageError, match="Close your quotes"):
        parse(policy, 'http "http://x')


def test_help_lists_adapters_checks_and_targets(policy: Policy) -> None:
    overview = parse(policy, "").help
    for name in ("triage", "mysql", "redis", "http", "dns", "tcp", "tls"):
        assert f"/diag {name}" in overview
    mysql_help = parse(policy, "help mysql").help
    assert "processlist" in mysql_help and "Targets: orders, reports" in mysql_help
    assert parse(policy, "redis help").help == parse(policy, "help redis").help


def test_triage_grammar() -> None:
    policy = make_policy(services={"checkout": {"health_url": "http://127.0.0.1:1/"}, "search": {}})
    assert parse(policy, "triage checkout").service == "checkout"
    with pytest.raises(UsageError, match=r"Unknown service `cart`\. Known: `checkout`, `search`\."):
        parse(policy, "triage cart")
    with pytest.raises(UsageError, match="Which service"):
        parse(policy, "triage")
    with pytest.raises(UsageError, match="No services to triage"):
        parse(Policy(), "triage x")


def test_the_shown_command_never_carries_a_password(policy: Policy) -> None:
    command = parse(policy, "http http://admin:hunter2@shop.test/health")
    assert command.args == ["http://admin:hunter2@shop.test/health"]  # the check still needs it
    assert command.text == "http get http://admin:*****@shop.test/health"
