"""Number formatting shared by the Markdown and HTML reports, so both say the same thing the same way."""

from __future__ import annotations

import math

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "every agent passes: its primary target averages at or above the threshold and is not significantly "
     "worse than its reference"),
    (3, "an agent is below the threshold, or significantly worse than its reference (paired test, p < 0.05 "
     "and the 95 % CI below zero)"),
    (4, "errors: the run could not start or finish (bad config or suite, unreachable gateway, a 403 on forcing "
     "a variant, or cases left without an answer after the retries); the gate is not decided"),
)  # fmt: skip


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def points(value: float | None) -> str:
    """A difference of two rates, in percentage points."""
    return "n/a" if value is None else f"{value * 100:+.0f} pp"


def usd(value: float | None) -> str:
    """Dollars with as many digits as a per-request price needs."""
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"${value:,.0f}"
    if magnitude >= 1:
        return f"${value:,.2f}"
    if magnitude == 0:
        return "$0"
    # Three significant digits in fixed notation: $0.000122, never $1.22e-04.
    digits = min(12, 2 - math.floor(math.log10(magnitude)))
    return f"${value:.{digits}f}"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"
