"""`genesis-gateway bench` end to end on the built-in simulator, through the CLI: reports and exit codes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.support.servers import free_port


@dataclass
class Invocation:
    exit_code: int
    output: str
    out: Path


def bench(tmp: Path, *args: str, progress: bool = False) -> Invocation:
    out = tmp / "out"
    flags = [] if progress else ["--no-progress"]
    result = CliRunner().invoke(app, ["bench", "--out", str(out), "--cache", str(tmp / "cache"), *flags, *args])
    return Invocation(result.exit_code, result.output, out)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Invocation:
    """The default suite on the simulator, once for the module, with the ROI inputs and the progress bar."""
    tmp = tmp_path_factory.mktemp("bench")
    return bench(tmp, "--finetune-cost", "2500", "--monthly-requests", "100000", progress=True)


def test_default_run_writes_the_three_reports(default_run: Invocation) -> None:
    """Without --config or --gateway, bench runs on the simulator and writes report.md, .json and .html."""
    assert default_run.exit_code in (0, 3), default_run.output
    assert "100/100" in default_run.output  # the progress bar counted every case × variant
    for name in ("report.md", "report.json", "report.html"):
        assert (default_run.out / name).stat().st_size > 1000


def test_markdown_has_the_per_agent_table_and_a_recommendation(default_run: Invocation) -> None:
    """report.md: overall vs threshold, the ranked per-agent table, the paired comparison, ROI and recommendation."""
    md = (default_run.out / "report.md").read_text()
    assert "against the threshold 8.0" in md
    assert "| rank | agent | candidate | baseline | pass rate | status | recommendation |" in md
    for agent in ("support_agent", "legal_agent", "content_agent", "qa_agent", "analyst_agent"):
        assert f"| {agent} |" in md
    assert "## Per dimension" in md and "## Weakest cases" in md and "## Strongest sample answers" in md
    assert "95 % CI" in md and "× the cost" in md
    assert "## Return on the fine-tune" in md and "$2,500" in md
    assert "## Deployment recommendation" in md
    assert "`3`: an agent is below the threshold" in md


def test_json_has_every_case_with_both_variants_scored(default_run: Invocation) -> None:
    """report.json parses and holds 50 cases, each answered and scored by candidate and baseline."""
    report = json.loads((default_run.out / "report.json").read_text())
    assert len(report["cases"]) == 50
    for case in report["cases"]:
        assert set(case["variants"]) == {"candidate", "baseline"}
        for run in case["variants"].values():
            assert run["answer"]["text"]
            assert 0 <= run["score"]["overall"] <= 10
            assert set(run["score"]["dimensions"]) == {"quality", "relevance", "format", "specificity"}
    assert report["targets"] == ["candidate", "baseline"]
    assert len(report["agents"]) == 5
    assert report["gate"]["exit_code"] in (0, 3)


def test_candidate_beats_baseline_on_the_simulator(default_run: Invocation) -> None:
    """The simulator's fine-tuned models answer better, and the paired comparison says so for every agent."""
    report = json.loads((default_run.out / "report.json").read_text())
    for agent in report["agents"]:
        comparison = agent["comparison"]
        assert comparison["verdict"] == "better"
        assert comparison["ci_low"] > 0 and comparison["p_value"] < 0.05
        assert comparison["cost_ratio"] > 1


def test_html_is_self_contained_with_both_charts_and_the_threshold_line(default_run: Invocation) -> None:
    """report.html has the two inline SVG charts, the 8.0 threshold line, and loads nothing from outside."""
    html = (default_run.out / "report.html").read_text()
    assert html.count("<svg") == 2
    assert 'id="chart-agents"' in html and 'id="chart-dimensions"' in html
    assert 'class="threshold"' in html and "threshold 8.0" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_a_threshold_nobody_reaches_exits_3(tmp_path: Path) -> None:
    """--threshold 9.9: every agent fails the gate, exit status 3, and the report says FAIL."""
    result = bench(tmp_path, "--threshold", "9.9", "--agent", "qa_agent")
    assert result.exit_code == 3, result.output
    assert "**Gate: FAIL** (exit status 3)" in (result.out / "report.md").read_text()


def test_a_reachable_threshold_exits_0(tmp_path: Path) -> None:
    """When every selected agent's candidate passes and beats its baseline, the exit status is 0."""
    result = bench(tmp_path, "--threshold", "5.0", "--agent", "qa_agent", "--agent", "legal_agent")
    assert result.exit_code == 0, result.output
    assert "gate: PASS" in result.output


def test_an_unreachable_gateway_exits_4(tmp_path: Path) -> None:
    """--gateway pointing at a closed port: a clear error and exit status 4, no reports."""
    result = bench(tmp_path, "--gateway", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 4
    assert "cannot reach the gateway" in result.output
    assert not (result.out / "report.md").exists()


def test_an_unknown_suite_exits_4(tmp_path: Path) -> None:
    """A suite name that is not packaged is an error (exit 4) naming it."""
    result = bench(tmp_path, "no-such-suite")
    assert result.exit_code == 4
    assert "no-such-suite" in result.output


def test_help_documents_the_exit_codes() -> None:
    """bench --help lists what exit statuses 0, 3 and 4 mean."""
    result = CliRunner().invoke(app, ["bench", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Exit status" in result.output
    for fragment in ("0  every agent passes", "3  an agent is below the threshold", "4  errors"):
        assert fragment in result.output


SIM_CONFIG = """
upstreams:
  sim: {kind: simulated, simulator: {first_token_ms: 5}}
agents:
  qa_agent:
    candidate: {model: "ft:sim:qa", upstream: sim}
    baseline: {model: sim-base, upstream: sim}
prices:
  "ft:sim:qa": {input: 2, output: 6}
  sim-base: {input: 1, output: 3}
scoring:
  scorers: {threshold: 9.9}
"""


def test_config_mode_scores_with_the_configs_scorers(tmp_path: Path) -> None:
    """--config: its upstreams answer, its prices cost, and its scoring.scorers threshold gates (9.9 → exit 3)."""
    config = tmp_path / "gateway.yaml"
    config.write_text(SIM_CONFIG)
    result = bench(tmp_path, "--config", str(config), "--agent", "qa_agent")
    assert result.exit_code == 3, result.output
    report = json.loads((result.out / "report.json").read_text())
    assert report["mode"] == "config" and report["threshold"] == 9.9
    assert report["overall"]["candidate"]["models"] == ["ft:sim:qa"]
    assert report["agents"][0]["comparison"]["cost_ratio"] > 1


def test_threshold_option_overrides_the_config(tmp_path: Path) -> None:
    """--threshold beats the config's scoring.scorers.threshold."""
    config = tmp_path / "gateway.yaml"
    config.write_text(SIM_CONFIG)
    result = bench(tmp_path, "--config", str(config), "--agent", "qa_agent", "--threshold", "5")
    assert result.exit_code == 0, result.output
    assert json.loads((result.out / "report.json").read_text())["threshold"] == 5.0


def test_a_bad_config_exits_4_naming_the_field(tmp_path: Path) -> None:
    """A config that does not validate is an error (exit 4) with the bad field's path."""
    config = tmp_path / "gateway.yaml"
    config.write_text(SIM_CONFIG.replace("threshold: 9.9", "threshold: 12"))
    result = bench(tmp_path, "--config", str(config))
    assert result.exit_code == 4
    assert "scoring.scorers.threshold" in result.output
