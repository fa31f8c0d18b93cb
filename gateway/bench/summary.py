"""From scored runs to verdicts: per-target summaries, paired comparisons, ranks, recommendations, the gate.

The comparison pairs the primary target's and the reference's scores case by case (the same
prompt answered by both), so the difference is measured with the case-to-case variation
removed; the statistics come from ``gateway.experiments.analysis`` (the A/B analysis uses the
same function on live traffic).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from gateway.bench.model import (
    AgentResult,
    CaseRef,
    Comparison,
    Gate,
    Recommendation,
    Run,
    TargetSummary,
    Verdict,
)
from gateway.experiments.analysis import paired_difference
from scoring.types import DIMENSIONS

ALPHA = 0.05
EXCERPT_CHARS = 700


def summarize(target: str, runs: Sequence[Run]) -> TargetSummary:
    """One target's means, pass rate, cost and latency over ``runs``."""
    scored = [r for r in runs if r.score is not None and r.answer is not None]
    scores = [r.score for r in scored if r.score is not None]
    answers = [r.answer for r in scored if r.answer is not None]
    costs = [r.cost_usd for r in scored]
    known_costs = [c for c in costs if c is not None]
    cost = sum(known_costs) if scored and len(known_costs) == len(costs) else None
    return TargetSummary(
        target=target,
        models=sorted({a.model for a in answers}),
        cases=len(runs),
        errors=sum(1 for r in runs if r.error is not None),
        overall=_mean([s.overall for s in scores]),
        pass_rate=_mean([1.0 if s.passed else 0.0 for s in scores]),
        dimensions={d: round(statistics.fmean(s.dimensions[d].value for s in scores), 2) for d in DIMENSIONS}
        if scores
        else {},
        cost_usd=cost,
        cost_per_request_usd=cost / len(scored) if cost is not None else None,
        mean_latency_s=_mean([a.latency_s for a in answers], digits=3),
        input_tokens=sum(a.input_tokens for a in answers),
        output_tokens=sum(a.output_tokens for a in answers),
    )


def compare(
    primary: Sequence[Run], reference: Sequence[Run], *, seed: int, cost_ratio: float | None
) -> Comparison | None:
    """Primary minus reference on the cases both scored; None below two pairs."""
    reference_by_case = {r.case_id: r.score.overall for r in reference if r.score is not None}
    pairs = [
        (r.score.overall, reference_by_case[r.case_id])
        for r in primary
        if r.score is not None and r.case_id in reference_by_case
    ]
    if len(pairs) < 2:
        return None
    result = paired_difference([a for a, _ in pairs], [b for _, b in pairs], seed=seed)
    # Both the bootstrap interval and the t-test must agree before a difference counts.
    significant = result.p_value < ALPHA and (result.ci_lower > 0 or result.ci_upper < 0)
    verdict: Verdict = "no significant difference"
    if significant:
        verdict = "better" if result.mean_difference > 0 else "worse"
    return Comparison(
        primary=primary[0].target,
        reference=reference[0].target,
        pairs=len(pairs),
        mean_diff=round(result.mean_difference, 3),
        ci_low=round(result.ci_lower, 3),
        ci_high=round(result.ci_upper, 3),
        p_value=result.p_value,
        verdict=verdict,
        cost_ratio=cost_ratio,
    )


def agent_results(runs: Sequence[Run], targets: Sequence[str], *, threshold: float, seed: int) -> list[AgentResult]:
    """One result per agent, ranked by the primary target's mean overall score."""
    agents = sorted({r.agent for r in runs})
    unranked: list[AgentResult] = []
    for agent in agents:
        mine = [r for r in runs if r.agent == agent]
        by_target = {t: [r for r in mine if r.target == t] for t in targets}
        summaries = {t: summarize(t, by_target[t]) for t in targets}
        comparison = None
        if len(targets) > 1:
            ratio = _ratio(summaries[targets[0]].cost_per_request_usd, summaries[targets[1]].cost_per_request_usd)
            comparison = compare(by_target[targets[0]], by_target[targets[1]], seed=seed, cost_ratio=ratio)
        unranked.append(_verdict(agent, summaries, targets, comparison, threshold))
    order = sorted(unranked, key=lambda a: -(a.targets[targets[0]].overall or -1.0))
    return [a.model_copy(update={"rank": i}) for i, a in enumerate(order, start=1)]


def _verdict(
    agent: str,
    summaries: dict[str, TargetSummary],
    targets: Sequence[str],
    comparison: Comparison | None,
    threshold: float,
) -> AgentResult:
    primary = summaries[targets[0]]
    passed = primary.overall is not None and primary.overall >= threshold
    recommendation, reason = _recommend(primary, summaries, targets, comparison, threshold, passed=passed)
    return AgentResult(
        agent=agent,
        rank=0,
        targets=summaries,
        comparison=comparison,
        passed=passed,
        recommendation=recommendation,
        reason=reason,
    )


def _recommend(
    primary: TargetSummary,
    summaries: dict[str, TargetSummary],
    targets: Sequence[str],
    comparison: Comparison | None,
    threshold: float,
    *,
    passed: bool,
) -> tuple[Recommendation, str]:
    errors = sum(s.errors for s in summaries.values())
    if errors:
        return "incomplete", f"{errors} case(s) had no answer; rerun (the cache keeps what was answered)"
    name = targets[0]
    if not passed:
        return "do not deploy", f"{name} scores {primary.overall} < {threshold:.1f}"
    if comparison is None:
        return "deploy", f"{name} scores {primary.overall} ≥ {threshold:.1f}"
    if comparison.verdict == "worse":
        return "do not deploy", f"{name} is significantly worse than {comparison.reference}: {comparison.phrase()}"
    if comparison.verdict == "better":
        return "deploy", f"passes and beats {comparison.reference}: {comparison.phrase()}"
    return "hold", f"passes, but no significant difference from {comparison.reference}: {comparison.phrase()}"


def weakest_cases(runs: Sequence[Run], targets: Sequence[str], *, count: int = 5) -> list[CaseRef]:
    """The primary target's lowest-scoring cases, with their weakest dimension."""
    primary = sorted(_scored(runs, targets[0]), key=lambda r: (_overall(r), r.case_id))
    return [_ref(r, runs, targets) for r in primary[:count]]


def strongest_cases(runs: Sequence[Run], targets: Sequence[str], *, count: int = 3) -> list[CaseRef]:
    """The primary target's best answers, with an excerpt of each."""
    primary = sorted(_scored(runs, targets[0]), key=lambda r: (-_overall(r), r.case_id))
    return [_ref(r, runs, targets, excerpt=True) for r in primary[:count]]


def gate(agents: Sequence[AgentResult], errors: Sequence[str]) -> Gate:
    """Exit 4 on any error (the result is incomplete), 3 when an agent fails or loses, else 0."""
    if errors:
        return Gate(exit_code=4, status="error", reasons=list(errors))
    reasons = [f"{a.agent}: {a.reason}" for a in agents if a.recommendation == "do not deploy"]
    if reasons:
        return Gate(exit_code=3, status="fail", reasons=reasons)
    return Gate(exit_code=0, status="pass", reasons=[])


def _ref(run: Run, runs: Sequence[Run], targets: Sequence[str], *, excerpt: bool = False) -> CaseRef:
    score = run.score
    assert score is not None  # only scored runs are picked
    dimension = min(DIMENSIONS, key=lambda d: score.dimensions[d].value)
    reference = None
    if len(targets) > 1:
        reference = next(
            (r.score.overall for r in runs if r.case_id == run.case_id and r.target == targets[1] and r.score),
            None,
        )
    text = run.answer.text if run.answer is not None else ""
    return CaseRef(
        case_id=run.case_id,
        agent=run.agent,
        target=run.target,
        overall=score.overall,
        weakest_dimension=dimension,
        weakest_value=score.dimensions[dimension].value,
        explanation=score.dimensions[dimension].explanation,
        reference_overall=reference,
        excerpt=_excerpt(text) if excerpt else "",
    )


def _scored(runs: Sequence[Run], target: str) -> list[Run]:
    return [r for r in runs if r.target == target and r.score is not None]


def _overall(run: Run) -> float:
    return run.score.overall if run.score is not None else 0.0


def _excerpt(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind("\n", 0, EXCERPT_CHARS)
    return text[: cut if cut > EXCERPT_CHARS // 2 else EXCERPT_CHARS].rstrip() + "\n…"


def _mean(values: Sequence[float], digits: int = 2) -> float | None:
    return round(statistics.fmean(values), digits) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)
