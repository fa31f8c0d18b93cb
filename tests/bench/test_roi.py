"""The ROI section: extra passes and inference cost at a monthly volume, cost per extra pass, break-even."""

from __future__ import annotations

import pytest

from gateway.bench.roi import compute_roi
from gateway.bench.summary import agent_results
from tests.bench.test_summary import runs


def results(candidate_cost: float | None = 0.003):
    data = [
        *runs("candidate", [9.0, 9.0, 7.0, 9.0], cost=candidate_cost),  # pass rate 75 %
        *runs("baseline", [6.0, 8.5, 6.0, 6.0], cost=0.001),  # pass rate 25 %
    ]
    return agent_results(data, ["candidate", "baseline"], threshold=8.0, seed=0)


def test_roi_from_known_gains_and_costs() -> None:
    """+50 pp passes and +$0.002 a request at 10,000 requests: 5,000 passes and $20 a month."""
    roi = compute_roi(
        results(), ["candidate", "baseline"], finetune_cost_usd=1000, monthly_requests=10_000, months=10,
        value_per_pass_usd=0.05,
    )  # fmt: skip
    assert roi.extra_passes_per_month == pytest.approx(5000)
    assert roi.extra_inference_usd_per_month == pytest.approx(20)
    assert roi.cost_over_horizon_usd == pytest.approx(1200)
    assert roi.cost_per_extra_pass_usd == pytest.approx(1200 / 50_000)
    assert roi.net_value_usd_per_month == pytest.approx(5000 * 0.05 - 20)
    assert roi.break_even_months == pytest.approx(1000 / 230)


def test_roi_never_breaks_even_when_the_gain_is_worth_less_than_the_extra_cost() -> None:
    """A value per pass below the extra inference per pass: no break-even."""
    roi = compute_roi(
        results(), ["candidate", "baseline"], finetune_cost_usd=1000, monthly_requests=10_000, value_per_pass_usd=0.001
    )
    assert roi.net_value_usd_per_month is not None and roi.net_value_usd_per_month < 0
    assert roi.break_even_months is None


def test_roi_without_prices_or_reference_says_why() -> None:
    """Unknown prices leave costs unknown with a note; a single target has no ROI."""
    unpriced = compute_roi(
        results(candidate_cost=None), ["candidate", "baseline"], finetune_cost_usd=10, monthly_requests=100
    )
    assert unpriced.extra_inference_usd_per_month is None and "no price" in unpriced.note
    alone = compute_roi(results(), ["candidate"], finetune_cost_usd=10, monthly_requests=100)
    assert alone.agents == [] and "reference" in alone.note
