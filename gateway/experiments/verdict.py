"""The policy: from an agent's analysis to a verdict — promote, continue, rollback or inconclusive — with reasons.

Rules, in order (``min_samples``, ``threshold``, margins from ``ExperimentsConfig``):

1. **No data pauses, it never rolls back** (Argo Rollouts #1905 rolls back on an empty query). With
   no samples, or fewer than ``min_samples`` in the candidate arm, the verdict is ``continue``.
2. **Rollback** when the candidate has enough samples and its overall mean is *significantly*
   below the threshold (the interval's upper end is under it — a noisy 7.9 is not enough), or,
   with enough baseline samples too, when it is significantly worse than the baseline on the
   overall score or on the pass rate.
3. **Promote** when both arms have enough samples, the candidate's overall mean clears the
   threshold, its overall score is significantly better or non-inferior (the interval's lower end
   above ``-non_inferiority_margin``), and its pass rate is non-inferior within ``pass_rate_margin``.
4. Otherwise ``continue`` while the baseline still lacks samples, and ``inconclusive`` once both
   arms have them but the intervals decide nothing yet.

``gate_action`` maps a verdict onto the staged rollout's question (proceed, hold, rollback).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.experiments.analysis import Comparison
from gateway.experiments.moments import PASS
from gateway.experiments.report import OVERALL, AgentAnalysis, phrase_comparison
from gateway.settings import ExperimentsConfig

Decision = Literal["promote", "continue", "rollback", "inconclusive"]
DECISIONS: tuple[Decision, ...] = ("promote", "continue", "rollback", "inconclusive")
GateAction = Literal["proceed", "hold", "rollback"]


class Verdict(BaseModel):
    """What to do with an agent's candidate, and why."""

    model_config = ConfigDict(frozen=True)

    decision: Decision
    reasons: tuple[str, ...]


class _Bar(BaseModel):
    """The candidate's overall mean against the threshold."""

    below: bool
    """Significantly below: the interval's upper end is under the threshold."""
    clears: bool
    """The mean is at or above the threshold."""
    reason: str


def decide(analysis: AgentAnalysis, config: ExperimentsConfig) -> Verdict:
    """The verdict on one agent's experiment."""
    have_c, have_b = analysis.samples["candidate"], analysis.samples["baseline"]
    need = config.min_samples
    if have_c < need:
        if have_c == 0 and have_b == 0:
            return Verdict(
                decision="continue",
                reasons=("no scored samples in either arm yet: waiting for data (missing data never rolls back)",),
            )
        return Verdict(decision="continue", reasons=_shortfall(have_c, have_b, need))
    bar = _threshold(analysis, config)
    if have_b < need:
        # The threshold needs no baseline; a comparison does.
        if bar.below:
            return Verdict(decision="rollback", reasons=(bar.reason,))
        return Verdict(decision="continue", reasons=(*_shortfall(have_c, have_b, need), bar.reason))
    return _compare(analysis, config, bar)


def _compare(analysis: AgentAnalysis, config: ExperimentsConfig, bar: _Bar) -> Verdict:
    """Both arms have enough samples."""
    worse = _worse(analysis)
    if bar.below:
        worse.append(bar.reason)
    if worse:
        return Verdict(decision="rollback", reasons=tuple(worse))
    support, blockers = _promotion(analysis, config, bar)
    if blockers:
        return Verdict(decision="inconclusive", reasons=tuple(blockers))
    return Verdict(decision="promote", reasons=tuple(support))


def gate_action(verdict: Verdict, *, auto_rollback: bool) -> GateAction:
    """The staged rollout's next move: only a promote verdict lets it widen; rollback needs ``auto_rollback``."""
    if verdict.decision == "promote":
        return "proceed"
    if verdict.decision == "rollback" and auto_rollback:
        return "rollback"
    return "hold"


def _shortfall(have_c: int, have_b: int, need: int) -> tuple[str, ...]:
    reasons = []
    for arm, have in (("candidate", have_c), ("baseline", have_b)):
        if have < need:
            reasons.append(f"{arm} has {have} of the {need} scored samples needed")
    return tuple(reasons)


def _threshold(analysis: AgentAnalysis, config: ExperimentsConfig) -> _Bar:
    mean, interval = analysis.candidate_mean, analysis.candidate_overall
    if mean is None or interval is None:  # unreachable with min_samples ≥ 2, kept for type safety
        return _Bar(below=False, clears=False, reason="the candidate has no overall scores")
    lower, upper = interval
    level = f"{analysis.confidence * 100:g} % CI {lower:.2f}…{upper:.2f}"
    if upper < config.threshold:
        reason = f"candidate overall mean {mean:.2f} is below the {_score(config.threshold)} threshold ({level})"
        return _Bar(below=True, clears=False, reason=reason)
    if mean >= config.threshold:
        reason = f"candidate overall mean {mean:.2f} clears the {_score(config.threshold)} threshold"
        return _Bar(below=False, clears=True, reason=reason)
    reason = f"candidate overall mean {mean:.2f} is under the {_score(config.threshold)} threshold, not significantly ({level})"
    return _Bar(below=False, clears=False, reason=reason)


def _score(value: float) -> str:
    """A score as people write it: ``8.0``, ``7.25``."""
    return f"{value:.1f}" if value == round(value, 1) else f"{value:g}"


def _worse(analysis: AgentAnalysis) -> list[str]:
    reasons = []
    for name, label in ((OVERALL, "overall"), (PASS, "pass rate")):
        comparison = _comparison(analysis, name)
        if comparison is not None and comparison.worse:
            reasons.append(f"{label}: the candidate is significantly worse: {_say(analysis, name, comparison)}")
    return reasons


def _promotion(analysis: AgentAnalysis, config: ExperimentsConfig, bar: _Bar) -> tuple[list[str], list[str]]:
    """Reasons for promoting, and what still stands in the way."""
    support: list[str] = []
    blockers: list[str] = []
    (support if bar.clears else blockers).append(bar.reason)
    checks = ((OVERALL, "overall", config.non_inferiority_margin), (PASS, "pass rate", config.pass_rate_margin))
    for name, label, margin in checks:
        comparison = _comparison(analysis, name)
        if comparison is None:
            continue
        said = _say(analysis, name, comparison)
        shown = f"{margin * 100:g} pts" if name == PASS else f"{margin:g}"
        if comparison.better:
            support.append(f"{label}: the candidate is significantly better: {said}")
        elif comparison.ci_lower > -margin:
            support.append(f"{label}: the candidate is non-inferior within {shown}: {said}")
        else:
            blockers.append(f"{label}: not yet shown non-inferior within {shown}: {said}")
    return support, blockers


def _comparison(analysis: AgentAnalysis, name: str) -> Comparison | None:
    result = analysis.dimension(name)
    return result.comparison if result is not None else None


def _say(analysis: AgentAnalysis, name: str, comparison: Comparison) -> str:
    return phrase_comparison(comparison, confidence=analysis.confidence, proportion=name == PASS)
