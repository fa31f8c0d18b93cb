"""The scorer seam: the `Scorer` protocol every heuristic scorer implements, and its helpers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from scoring.text import clamp10
from scoring.types import Dimension, DimensionScore, Sample


@runtime_checkable
class Scorer(Protocol):
    """Scores one dimension of a sample, synchronously and deterministically."""

    name: str
    dimension: Dimension

    def score(self, sample: Sample, /) -> DimensionScore:
        """Return the sample's value on this scorer's dimension (0–10) with a short reason."""
        ...


def dimension_score(value: float, reasons: list[str]) -> DimensionScore:
    """Build a DimensionScore rounded to two decimals, its reasons joined into one short line."""
    return DimensionScore(value=round(clamp10(value), 2), explanation="; ".join(reasons) or "ok")
