"""The Markdown and HTML renderers on edge cases: errors, one target, unknown prices; the SVG scale."""

from __future__ import annotations

import re

from gateway.bench.model import Run
from gateway.bench.report_html import render_html
from gateway.bench.report_md import render_markdown
from gateway.bench.run import BenchOptions, build_report
from gateway.bench.svg import Group, bar_chart
from scoring.suites import load_suite
from tests.bench.test_summary import runs

SUITE = load_suite("genesis-agents")
QA_CASES = SUITE.for_agent("qa_agent")


def report_of(data: list[Run], targets: tuple[str, ...]):
    """A report over the qa cases, with case ids taken from the suite."""
    ids = [c.id for c in QA_CASES]
    renamed = [r.model_copy(update={"case_id": ids[int(r.case_id[1:])]}) for r in data]
    return build_report(
        SUITE, QA_CASES, renamed, BenchOptions(targets=targets), mode="simulator", source="test",
        started_at="2025-01-01T00:00:00+00:00", duration_s=1.0, scorer="heuristic",
    )  # fmt: skip


def test_errors_are_listed_and_the_agent_is_incomplete() -> None:
    """A case without an answer: both reports list the error, the agent is 'incomplete', the gate says ERROR."""
    failed = Run(case_id="c2", agent="qa_agent", target="baseline", attempts=4, error="upstream timed out")
    data = [*runs("candidate", [9.0, 9.1, 9.2]), *runs("baseline", [6.0, 6.1]), failed]
    report = report_of(data, ("candidate", "baseline"))
    md, html = render_markdown(report), render_html(report)
    assert "**Gate: ERROR** (exit status 4)" in md
    assert "## Errors" in md and "upstream timed out (after 4 attempt(s))" in md
    assert "| 1 | qa_agent | 9.10 | 6.05 | 100 % | PASS | incomplete |" in md
    assert "upstream timed out" in html and "Gate: ERROR (exit 4)" in html


def test_one_target_renders_without_comparison_and_unknown_cost() -> None:
    """--models with one target and no prices: no comparison section, costs shown as n/a."""
    report = report_of(runs("candidate", [9.0, 8.5], cost=None), ("candidate",))
    md = render_markdown(report)
    assert "vs baseline" not in md and "| candidate | 2 | " in md and "n/a" in md
    assert "deploy" in md and report.gate.exit_code == 0
    assert render_html(report).count("<svg") == 2


def test_markdown_cells_escape_pipes_and_newlines() -> None:
    """Explanations with '|' or line breaks do not break the Markdown tables."""
    (first, *rest) = runs("candidate", [6.0, 9.0])
    dims = {d: v.model_copy(update={"explanation": "a | b\nc"}) for d, v in first.score.dimensions.items()}  # type: ignore[union-attr]
    odd = first.model_copy(update={"score": first.score.model_copy(update={"dimensions": dims})})  # type: ignore[union-attr]
    md = render_markdown(report_of([odd, *rest], ("candidate",)))
    assert "a \\| b c" in md


def test_threshold_line_sits_at_its_value_on_the_0_to_10_scale() -> None:
    """The threshold line is drawn at 80 % of the plot height for 8.0, labelled with the value."""
    svg = bar_chart("t", ["candidate"], [Group("qa", [9.0])], threshold=8.0, chart_id="x")
    line = re.search(r'<line x1="[\d.]+" y1="([\d.]+)"[^>]*class="threshold"', svg)
    zero = re.search(r'<line x1="[\d.]+" y1="([\d.]+)"[^>]*class="grid"', svg)  # the first grid line is 0
    ten = re.findall(r'<line x1="[\d.]+" y1="([\d.]+)"[^>]*class="grid"', svg)[-1]
    assert line is not None and zero is not None
    y0, y10, y8 = float(zero.group(1)), float(ten), float(line.group(1))
    assert abs((y0 - y8) / (y0 - y10) - 0.8) < 1e-6
    assert "threshold 8.0" in svg
