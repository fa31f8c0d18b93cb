"""The scorer seams: `Scorer` (scores a sample) and `TextScorer` (a heuristic scorer that can also
score an already analysed sample, so the composite tokenises each sample once), and helpers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from scoring.text import AnalysedText, clamp10
from scoring.types import Dimension, DimensionScore, Sample


@runtime_checkable
class Scorer(Protocol):
    """Scores one dimension of a sample, synchronously and deterministically."""

    name: str
    dimension: Dimension

    def score(self, sample: Sample, /) -> DimensionScore:
        """Return the sample's value on this scorer's dimension (0–10) with a short reason."""
        ...


@runtime_checkable
class TextScorer(Scorer, Protocol):
    """A heuristic scorer: `score_text` reads the shared `AnalysedText` instead of the raw sample."""

    def score_text(self, text: AnalysedText, /) -> DimensionScore:
        """Return the analysed sample's value on this scorer's dimension (0–10) with a short reason."""
        ...


def dimension_score(value: float, reasons: list[str]) -> DimensionScore:
    """Build a DimensionScore rounded to two decimals, its reasons joined into one short line."""
    return DimensionScore(value=round(clamp10(value), 2), explanation="; ".join(reasons) or "ok")
