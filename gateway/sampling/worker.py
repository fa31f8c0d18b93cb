"""Scoring one sample: skip what cannot be scored, run the scorers, record once, observe the metrics.

Shared by both queue homes. Truncated and failed answers (finish reason ``length`` or ``error``, an
error on the exchange, no text) are counted in ``genesis_samples_skipped_total`` and not scored: a
cut-off answer says nothing about the model's quality. The scorers are the ``scoring`` library's
``Composite`` built from ``scoring.scorers`` — the benchmark's own settings — and the LLM judge
runs only through ``JudgeRunner`` (rate and budget). Metrics are observed only when the store
accepted the result (or the skip), so a redelivered sample is neither recorded nor counted twice.
"""

from __future__ import annotations

from enum import StrEnum

from gateway.metrics.quality import ScoringMetrics
from gateway.sampling.judge import JudgeRunner
from gateway.sampling.record import SampleRecord, sample_of, scored_of
from gateway.sampling.results import ScoreStore
from scoring.composite import Composite
from scoring.types import Sample, Score

_TRUNCATED = frozenset({"length", "model_length"})


class Outcome(StrEnum):
    SCORED = "scored"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


def skip_reason(record: SampleRecord) -> str | None:
    """Why ``record`` is counted but not scored, or None when it can be scored."""
    if record.error is not None or record.finish_reason == "error":
        return "error"
    if record.finish_reason in _TRUNCATED:
        return "truncated"
    if not record.answer.strip():
        return "empty"
    return None


class ScoringWorker:
    """Turns sample records into recorded scores."""

    def __init__(
        self,
        *,
        composite: Composite,
        store: ScoreStore,
        metrics: ScoringMetrics,
        judge: JudgeRunner | None = None,
    ):
        self._composite = composite
        self._store = store
        self._metrics = metrics
        self._judge = judge

    async def process(self, record: SampleRecord) -> Outcome:
        """Score and record one sample; store errors propagate (the caller retries or re-delivers)."""
        reason = skip_reason(record)
        if reason is not None:
            if not await self._store.record_skipped(record.request_id):
                return Outcome.DUPLICATE
            self._metrics.skipped.labels(record.agent, reason).inc()
            return Outcome.SKIPPED
        score = await self._score(sample_of(record))
        scored = scored_of(record, score)
        if not await self._store.record(scored):
            return Outcome.DUPLICATE
        self._metrics.observe(record.agent, record.variant, scored.values(), scored.passed)
        return Outcome.SCORED

    async def _score(self, sample: Sample) -> Score:
        if self._judge is not None:
            judged = await self._judge.score(sample)
            if judged is not None:
                return judged
        return self._composite.score(sample)
