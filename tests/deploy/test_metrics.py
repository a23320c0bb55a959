"""/metrics as Prometheus scrapes it, before and after real incidents through the whole bot."""

from __future__ import annotations

from bot.audit.record import record_diagnostic
from bot.config.policy import Policy
from bot.diagnostics import flows as diag_flows
from bot.escalation.engine import run_due
from tests.deploy.conftest import scrape, value
from tests.harness import Harness


def _policy(pager: str) -> Policy:
    return Policy.model_validate(
        {"escalation": {"tiers": [{"name": "tier1", "targets": [pager], "timeout": "15m"}]}}
    )


def test_declaring_paging_and_resolving_move_the_warroom_metrics(sqlite_url: str) -> None:
    with Harness(sqlite_url, policy=_policy("U0BOB")) as h:
        before = scrape(h.url)
        assert value(before, "warroom_incidents_open", severity="p1") == 0
        incident = h.declare("p1 Checkout API returns 502")
        run_due(h.runtime)  # the scheduler's tick: tier 1 (bob) is paged
        during = scrape(h.url)
        h.command("resolve", channel=incident.channel_id)
        h.wait_idle()
        after = scrape(h.url)

    declared = "warroom_incidents_declared_total"
    assert value(during, declared, severity="p1") == value(before, declared, severity="p1") + 1
    assert value(during, declared, severity="p0") == value(before, declared, severity="p0")
    assert value(during, "warroom_incidents_open", severity="p1") == 1
    assert value(during, "warroom_incidents_open", severity="p0") == 0
    assert value(after, "warroom_incidents_open", severity="p1") == 0

    sent = "warroom_pages_sent_total"
    assert value(during, sent, channel="slack") == value(before, sent, channel="slack") + 1
    lateness = "warroom_page_lateness_seconds_count"
    assert value(during, lateness) == value(before, lateness) + 1
    # Lateness is observed in seconds (not ms, not an epoch); how late is the benchmark's business
    # (bench/escalation_lateness.py), not a unit test's on a loaded machine.
    observed = value(during, "warroom_page_lateness_seconds_sum") - value(
        before, "warroom_page_lateness_seconds_sum"
    )
    assert 0 <= observed < 60


def test_slack_api_errors_are_counted_by_method_and_error(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        before = scrape(h.url)
        h.emulator.fail("pins.add", error="not_pinnable")
        h.declare("p2 Search is slow")
        after = scrape(h.url)
    errors = "warroom_slack_api_errors_total"
    assert value(after, errors, method="pins.add", error="not_pinnable") == (
        value(before, errors, method="pins.add", error="not_pinnable") + 1
    )


def test_diag_runs_are_counted_by_adapter_and_outcome(sqlite_url: str) -> None:
    with Harness(sqlite_url) as h:
        before = scrape(h.url)
        # A tcp check to a closed local port: a real run whose outcome is not ok.
        command = diag_flows.parse(h.runtime.policy, "tcp 127.0.0.1:9")
        result = diag_flows.run(h.runtime.policy, command)
        record_diagnostic(h.runtime, result, actor=h.alice, channel_id=h.general)
        after = scrape(h.url)
    outcome = str(result.outcome)
    runs = "warroom_diag_runs_total"
    assert (
        value(after, runs, adapter="tcp", outcome=outcome)
        == value(before, runs, adapter="tcp", outcome=outcome) + 1
    )


def test_metrics_page_shows_every_warroom_family_from_the_first_scrape(sqlite_url: str) -> None:
    """Dashboards and alerts need the series to exist before the first incident."""
    with Harness(sqlite_url) as h:
        samples = scrape(h.url)
    names = {name for name, _ in samples}
    for expected in (
        "warroom_incidents_open",
        "warroom_incidents_declared_total",
        "warroom_pages_sent_total",
        "warroom_pages_failed_total",
        "warroom_page_lateness_seconds_bucket",
        "warroom_page_lateness_seconds_count",
    ):
        assert expected in names, expected
    assert value(samples, "warroom_incidents_declared_total", severity="p3") >= 0
    assert ("warroom_incidents_open", (("severity", "p3"),)) in samples
