"""The Prometheus rules: promtool accepts and unit-tests them, and every alert is documented and covered."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards.inventory import ALERT_RULES, RECORDING_RULES, ROOT, Rule, load_rules, metric_names, panel_queries

PROMETHEUS_DIR = ROOT / "prometheus"
TEST_FILES = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
RUNBOOK = ROOT / "RUNBOOK.md"


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is not installed; run the tests with `make test` (make services installs it)")
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def test_promtool_accepts_the_rule_files() -> None:
    """promtool check rules passes on the recording and alerting rules."""
    result = _promtool("check", "rules", RECORDING_RULES, ALERT_RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    """promtool test rules passes on every unit-test file under dashboards/prometheus/tests."""
    assert TEST_FILES
    result = _promtool("test", "rules", *TEST_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    """The unit tests notice a changed threshold: with the 8.0 line moved to 6.0 they fail."""
    copy = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS_DIR, copy)
    alerts = copy / "alerts.yml"
    text = alerts.read_text(encoding="utf-8")
    assert 'dimension="overall"} < 8.0' in text
    alerts.write_text(text.replace('dimension="overall"} < 8.0', 'dimension="overall"} < 6.0'), encoding="utf-8")
    result = _promtool("test", "rules", copy / "tests" / "alerts_test.yml")
    assert result.returncode != 0
    assert "GenesisCandidateQualityBelowTarget" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    """Each alert has a promtool case where it fires and one where it must stay quiet."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule.name for rule in load_rules(ALERT_RULES)}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested quiet"


def test_the_required_alerts_exist() -> None:
    """The alerts the issue asks for are all defined."""
    alerts = {rule.name for rule in load_rules(ALERT_RULES)}
    assert {
        "GenesisCandidateQualityBelowTarget",
        "GenesisSpecificityBelowFloor",
        "GenesisCandidateErrorRateAboveBaseline",
        "GenesisLatencyP95High",
        "GenesisScoringQueueLagging",
        "GenesisScoringSamplesDropped",
        "GenesisSampleRatioMismatch",
        "GenesisRollbackDecided",
        "GenesisRedisUnreachable",
        "GenesisBackgroundErrors",
    } <= alerts


@pytest.mark.parametrize("rule", load_rules(ALERT_RULES), ids=lambda rule: rule.name)
def test_alert_is_documented(rule: Rule) -> None:
    """Each alert has a severity, a summary, a description naming the agent and a runbook section."""
    assert rule.labels.get("severity") in {"warning", "critical"}
    assert rule.annotations.keys() >= {"summary", "description", "runbook_url"}
    description = rule.annotations["description"]
    assert "{{ $labels.agent }}" in description or re.search(r"\b(any|every) agent\b", description), (
        "the description must name the agent, or say the alert concerns every agent"
    )
    page, _, anchor = rule.annotations["runbook_url"].partition("#")
    assert page == "dashboards/RUNBOOK.md"
    headings = [line.removeprefix("## ") for line in RUNBOOK.read_text(encoding="utf-8").splitlines()]
    assert anchor == _anchor(rule.name)
    assert rule.name in headings, f"RUNBOOK.md has no '## {rule.name}' section"


def test_recorded_names_in_use_are_defined() -> None:
    """Every recording-rule name read by a dashboard, an alert or another rule is recorded."""
    recorded = {rule.name for rule in load_rules(RECORDING_RULES)}
    used = {name for query in panel_queries() for name in metric_names(query.expr)}
    for path in (RECORDING_RULES, ALERT_RULES):
        used |= {name for rule in load_rules(path) for name in metric_names(rule.expr)}
    assert {name for name in used if ":" in name} - recorded == set()


def test_every_recording_rule_is_unit_tested_or_feeds_one() -> None:
    """Each recorded series is read by a promtool expression, an alert, or another recording rule."""
    readers = [rule.expr for path in (RECORDING_RULES, ALERT_RULES) for rule in load_rules(path)]
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            readers += [check["expr"] for check in case.get("promql_expr_test", [])]
    read = {name for expr in readers for name in metric_names(expr)}
    untested = {rule.name for rule in load_rules(RECORDING_RULES)} - read
    assert untested == set()
