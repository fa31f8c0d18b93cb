"""Paired comparisons, recommendations and the gate, on hand-made scores with known statistics."""

from __future__ import annotations

import pytest

from gateway.bench.model import Answer, Run
from gateway.bench.summary import agent_results, compare, gate, summarize, weakest_cases
from scoring.types import DIMENSIONS, DimensionScore, Score


def run(case: str, target: str, overall: float, *, agent: str = "qa_agent", cost: float | None = 0.001) -> Run:
    dims = {d: DimensionScore(value=overall, explanation=f"{d} note") for d in DIMENSIONS}
    score = Score(dimensions=dims, overall=overall, passed=overall >= 8.0, threshold=8.0)
    answer = Answer(text=f"answer to {case}", model=f"model-{target}", input_tokens=10, output_tokens=20)
    return Run(case_id=case, agent=agent, target=target, answer=answer, score=score, cost_usd=cost, attempts=1)


def runs(target: str, values: list[float], *, agent: str = "qa_agent", cost: float | None = 0.001) -> list[Run]:
    return [run(f"c{i}", target, v, agent=agent, cost=cost) for i, v in enumerate(values)]


def test_paired_difference_matches_the_textbook_t_test() -> None:
    """Differences 1..5: mean 3, t = 3/(sd/√5) = 4.243 on 4 df, two-sided p = 0.0132; CI inside [1, 5]."""
    baseline = [3.0, 4.0, 2.0, 5.0, 3.5]
    primary = [b + d for b, d in zip(baseline, [1.0, 2.0, 3.0, 4.0, 5.0], strict=True)]
    result = compare(runs("candidate", primary), runs("baseline", baseline), seed=0, cost_ratio=None)
    assert result is not None
    assert result.pairs == 5
    assert result.mean_diff == pytest.approx(3.0)
    assert result.p_value == pytest.approx(0.01324, abs=2e-4)
    assert 1.0 <= result.ci_low < 3.0 < result.ci_high <= 5.0
    assert result.verdict == "better"


def test_pairs_are_matched_by_case_not_by_position() -> None:
    """Runs in a different order, or missing on one side, are paired by case id."""
    primary = runs("candidate", [8.0, 9.0, 7.0])
    reference = list(reversed(runs("baseline", [7.0, 8.0, 6.0])))[:2]  # c2 and c1 only
    result = compare(primary, reference, seed=0, cost_ratio=None)
    assert result is not None and result.pairs == 2
    assert result.mean_diff == pytest.approx(1.0)


def test_same_seed_same_interval() -> None:
    """The bootstrap interval is reproducible for a seed."""
    a, b = runs("candidate", [8.1, 7.2, 9.0, 6.5, 8.8, 7.7]), runs("baseline", [7.9, 7.5, 8.1, 6.9, 8.0, 7.0])
    first, again = compare(a, b, seed=3, cost_ratio=None), compare(a, b, seed=3, cost_ratio=None)
    assert first is not None and again is not None
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)


def test_no_difference_is_not_significant_and_holds() -> None:
    """Differences that cancel out: no significant difference, so a passing agent is 'hold', gate 0."""
    primary = runs("candidate", [8.5, 9.0, 8.2, 8.8, 8.4, 8.6])
    reference = runs("baseline", [8.6, 8.9, 8.3, 8.7, 8.5, 8.5])
    (result,) = agent_results([*primary, *reference], ["candidate", "baseline"], threshold=8.0, seed=0)
    assert result.comparison is not None and result.comparison.verdict == "no significant difference"
    assert result.passed and result.recommendation == "hold"
    assert gate([result], []).exit_code == 0


def test_significantly_worse_candidate_fails_the_gate_even_above_threshold() -> None:
    """A candidate above 8.0 but clearly below its baseline: 'do not deploy' and exit 3."""
    primary = runs("candidate", [8.1, 8.3, 8.2, 8.4, 8.0, 8.2])
    reference = runs("baseline", [9.1, 9.4, 9.2, 9.3, 9.1, 9.2])
    (result,) = agent_results([*primary, *reference], ["candidate", "baseline"], threshold=8.0, seed=0)
    assert result.passed
    assert result.comparison is not None and result.comparison.verdict == "worse"
    assert result.recommendation == "do not deploy"
    verdict = gate([result], [])
    assert verdict.exit_code == 3 and "significantly worse" in verdict.reasons[0]


def test_below_threshold_fails_and_better_above_deploys() -> None:
    """Ranks follow the primary's mean; below 8.0 is 'do not deploy', above and better is 'deploy'."""
    data = [
        *runs("candidate", [9.0, 9.2, 8.8], agent="qa_agent"),
        *runs("baseline", [6.0, 6.5, 6.1], agent="qa_agent"),
        *runs("candidate", [7.0, 7.5, 7.2], agent="legal_agent"),
        *runs("baseline", [5.0, 5.5, 5.1], agent="legal_agent"),
    ]
    results = agent_results(data, ["candidate", "baseline"], threshold=8.0, seed=0)
    assert [(r.rank, r.agent, r.recommendation) for r in results] == [
        (1, "qa_agent", "deploy"),
        (2, "legal_agent", "do not deploy"),
    ]
    assert gate(results, []).exit_code == 3


def test_errors_take_precedence_in_the_gate() -> None:
    """Any error makes the gate 'error' with exit 4, whatever the scores."""
    results = agent_results(runs("candidate", [9.0, 9.5]), ["candidate"], threshold=8.0, seed=0)
    assert gate(results, []).exit_code == 0
    assert gate(results, ["c1 × candidate: timeout"]).exit_code == 4


def test_summary_cost_and_ratio() -> None:
    """Cost per request is the mean of the runs; an unknown price makes the cost unknown, not zero."""
    summary = summarize("candidate", runs("candidate", [8.0, 9.0], cost=0.003))
    assert summary.cost_usd == pytest.approx(0.006) and summary.cost_per_request_usd == pytest.approx(0.003)
    assert summary.overall == 8.5 and summary.pass_rate == 1.0
    assert summarize("baseline", runs("baseline", [8.0], cost=None)).cost_usd is None
    data = [*runs("candidate", [9.0, 9.1, 9.3], cost=0.003), *runs("baseline", [6.0, 6.2, 6.1], cost=0.002)]
    (result,) = agent_results(data, ["candidate", "baseline"], threshold=8.0, seed=0)
    assert result.comparison is not None and result.comparison.cost_ratio == pytest.approx(1.5)
    assert result.comparison.phrase().endswith("1.5× the cost")


def test_weakest_cases_are_the_lowest_primary_scores() -> None:
    """Weakest cases list the primary's lowest overall scores, with the reference's score beside them."""
    data = [*runs("candidate", [9.0, 6.0, 7.0]), *runs("baseline", [5.0, 4.0, 3.0])]
    weakest = weakest_cases(data, ["candidate", "baseline"], count=2)
    assert [(w.case_id, w.overall, w.reference_overall) for w in weakest] == [("c1", 6.0, 4.0), ("c2", 7.0, 3.0)]
