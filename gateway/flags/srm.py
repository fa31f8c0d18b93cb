"""Sample-ratio-mismatch check: do the observed assignments match the configured share?

A chi-square goodness-of-fit test of the candidate/baseline counts of one phase against the
share, as GrowthBook does it: a mismatch is flagged when p < 0.001 and each variant expects at
least 8 units (below that the test says nothing). The minimum applies to the *expected* counts, the
condition under which the chi-square approximation holds, so a candidate that receives no units at
all is still caught. With two variants the statistic has one degree of
freedom, whose survival function is ``erfc(sqrt(x / 2))`` — no SciPy needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gateway.flags.counts import VariantCounts

SRM_THRESHOLD = 0.001
MIN_PER_VARIANT = 8

SrmStatus = Literal["ok", "mismatch", "insufficient_data", "not_applicable"]


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The check of one phase of one agent."""

    status: SrmStatus
    p_value: float
    """1.0 when the test could not be run (too few units, or a share of 0 or 100 %)."""
    chi_square: float
    expected_candidate_fraction: float

    @property
    def detected(self) -> bool:
        return self.status == "mismatch"


def chi_square_p_value(statistic: float) -> float:
    """P(X >= statistic) for a chi-square variable with one degree of freedom."""
    if statistic <= 0:
        return 1.0
    return math.erfc(math.sqrt(statistic / 2))


def srm_check(counts: VariantCounts, candidate_share: float) -> SrmResult:
    """Test ``counts`` against a candidate share in percent."""
    fraction = candidate_share / 100
    if not 0 < fraction < 1:
        # Every unit is expected on one side: there is no ratio to test.
        return SrmResult("not_applicable", 1.0, 0.0, fraction)
    total = counts.total
    if total * min(fraction, 1 - fraction) < MIN_PER_VARIANT:
        return SrmResult("insufficient_data", 1.0, 0.0, fraction)
    statistic = 0.0
    for observed, expected_fraction in ((counts.candidate, fraction), (counts.baseline, 1 - fraction)):
        expected = total * expected_fraction
        statistic += (observed - expected) ** 2 / expected
    p = chi_square_p_value(statistic)
    return SrmResult("mismatch" if p < SRM_THRESHOLD else "ok", p, statistic, fraction)
