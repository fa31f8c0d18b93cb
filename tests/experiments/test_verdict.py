"""The policy table: when a candidate is promoted, kept running, rolled back, or left inconclusive."""

from __future__ import annotations

import pytest

from gateway.experiments.moments import ArmStats
from gateway.experiments.report import analyse
from gateway.experiments.verdict import Verdict, decide, gate_action
from gateway.settings import ExperimentsConfig
from tests.experiments.helpers import arm

CONFIG = ExperimentsConfig()


def verdict_of(arms: list[ArmStats], config: ExperimentsConfig = CONFIG) -> Verdict:
    return decide(analyse("support_agent", {a.variant: a for a in arms}, config), config)


def c(n: int, mean: float, sd: float = 1.0, pass_rate: float | None = None) -> ArmStats:
    return arm("support_agent", "candidate", n, mean, sd=sd, pass_rate=pass_rate)


def b(n: int, mean: float, sd: float = 1.0, pass_rate: float | None = None) -> ArmStats:
    return arm("support_agent", "baseline", n, mean, sd=sd, pass_rate=pass_rate)


def test_no_data_pauses_and_never_rolls_back() -> None:
    """No scores in either arm: continue, saying it waits — not the rollback Argo gives on an empty query."""
    verdict = verdict_of([])
    assert verdict.decision == "continue"
    assert "no scored samples" in verdict.reasons[0]
    assert gate_action(verdict, auto_rollback=True) == "hold"


def test_a_bad_candidate_with_too_few_samples_is_not_rolled_back() -> None:
    """149 dreadful candidate scores are still below min_samples: continue, naming the shortfall."""
    verdict = verdict_of([c(149, 3.0), b(800, 8.5)])
    assert verdict.decision == "continue"
    assert verdict.reasons == ("candidate has 149 of the 150 scored samples needed",)


def test_candidate_significantly_below_the_threshold_rolls_back_without_a_baseline() -> None:
    """Enough candidate samples averaging 6.5 roll back even before the baseline has data."""
    verdict = verdict_of([c(200, 6.5), b(10, 8.5)])
    assert verdict.decision == "rollback"
    assert "below the 8.0 threshold" in verdict.reasons[0]


def test_a_good_candidate_waits_for_the_baseline() -> None:
    """A candidate at 8.6 with a 10-sample baseline: continue until the baseline has enough."""
    verdict = verdict_of([c(300, 8.6), b(10, 8.5)])
    assert verdict.decision == "continue"
    assert "baseline has 10 of the 150" in verdict.reasons[0]
    assert "clears the 8.0 threshold" in verdict.reasons[1]


def test_significantly_worse_overall_rolls_back() -> None:
    """8.2 against 8.9 on 400 samples each is clearly worse, though above the threshold."""
    verdict = verdict_of([c(400, 8.2), b(400, 8.9)])
    assert verdict.decision == "rollback"
    assert any(r.startswith("overall: the candidate is significantly worse: -0.70 (95 % CI") for r in verdict.reasons)


def test_significantly_worse_pass_rate_alone_rolls_back() -> None:
    """Equal mean scores but a pass rate of 60 % against 85 %: rollback on the pass rate."""
    verdict = verdict_of([c(400, 8.5, pass_rate=0.60), b(400, 8.5, pass_rate=0.85)])
    assert verdict.decision == "rollback"
    assert verdict.reasons[0].startswith("pass rate: the candidate is significantly worse: -25.0 pts")


def test_noisy_mean_just_under_the_threshold_is_inconclusive() -> None:
    """7.95 with sd 1.5 is under 8.0 but not significantly: no rollback, no promotion."""
    verdict = verdict_of([c(200, 7.95, sd=1.5, pass_rate=0.5), b(200, 7.9, sd=1.5, pass_rate=0.5)])
    assert verdict.decision == "inconclusive"
    assert any("under the 8.0 threshold, not significantly" in r for r in verdict.reasons)


def test_significantly_better_and_above_threshold_promotes() -> None:
    """8.8 against 8.2 on 500 samples each: promote, with the reasons."""
    verdict = verdict_of([c(500, 8.8), b(500, 8.2)])
    assert verdict.decision == "promote"
    assert "clears the 8.0 threshold" in verdict.reasons[0]
    assert verdict.reasons[1].startswith("overall: the candidate is significantly better: +0.60 (95 % CI")
    assert gate_action(verdict, auto_rollback=False) == "proceed"


def test_non_inferior_within_the_margin_promotes() -> None:
    """8.50 against 8.55 on 3,000 samples each: not better, but its interval stays above −0.2."""
    verdict = verdict_of([c(3000, 8.50, pass_rate=0.7), b(3000, 8.55, pass_rate=0.7)])
    assert verdict.decision == "promote"
    assert any(r.startswith("overall: the candidate is non-inferior within 0.2") for r in verdict.reasons)
    assert any(r.startswith("pass rate: the candidate is non-inferior within 5 pts") for r in verdict.reasons)


def test_too_wide_an_interval_is_inconclusive() -> None:
    """8.4 against 8.5 with sd 1.5 on 200 each: the interval reaches below the margin, so no decision yet."""
    verdict = verdict_of([c(200, 8.4, sd=1.5, pass_rate=0.6), b(200, 8.5, sd=1.5, pass_rate=0.6)])
    assert verdict.decision == "inconclusive"
    assert any(r.startswith("overall: not yet shown non-inferior within 0.2") for r in verdict.reasons)
    assert gate_action(verdict, auto_rollback=True) == "hold"


def test_continuous_monitoring_needs_stronger_evidence_than_a_one_off_test() -> None:
    """+0.25 on 200 each with no margin: Welch alone would promote; the always-valid default waits."""
    arms = [c(200, 8.45, pass_rate=0.7), b(200, 8.2, pass_rate=0.7)]
    strict = ExperimentsConfig(non_inferiority_margin=0.0, pass_rate_margin=0.5)
    assert verdict_of(arms, strict).decision == "inconclusive"
    assert verdict_of(arms, strict.model_copy(update={"sequential": False})).decision == "promote"


def test_min_samples_is_configurable() -> None:
    """With min_samples 20, twenty scores per arm are enough for a verdict."""
    config = ExperimentsConfig(min_samples=20)
    assert verdict_of([c(20, 6.0), b(20, 8.5)], config).decision == "rollback"
    assert verdict_of([c(19, 6.0), b(20, 8.5)], config).decision == "continue"


@pytest.mark.parametrize(
    ("decision", "auto_rollback", "expected"),
    [
        ("promote", False, "proceed"),
        ("promote", True, "proceed"),
        ("continue", True, "hold"),
        ("inconclusive", True, "hold"),
        ("rollback", False, "hold"),
        ("rollback", True, "rollback"),
    ],
)
def test_gate_action_table(decision: str, auto_rollback: bool, expected: str) -> None:
    """Only promote widens a rollout; rollback reverses it only when automatic rollback is on, else it holds."""
    verdict = Verdict.model_validate({"decision": decision, "reasons": ()})
    assert gate_action(verdict, auto_rollback=auto_rollback) == expected
