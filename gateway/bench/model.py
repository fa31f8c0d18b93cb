"""The benchmark's data: answers, scored runs, per-agent summaries, comparisons and the gate.

Everything a report shows is one of these pydantic models, so ``report.json`` is simply
``BenchReport.model_dump_json()`` and the Markdown and HTML pages read the same object.

A *target* is one column of the benchmark: ``candidate`` or ``baseline`` (each agent's own
route) or a concrete model id given with ``--models``. The first target is the one under test
(the *primary*); the second, if any, is what it is compared against (the *reference*).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.types import Dimension, Message, Score

VARIANT_TARGETS = ("candidate", "baseline")

Recommendation = Literal["deploy", "hold", "do not deploy", "incomplete"]
Verdict = Literal["better", "worse", "no significant difference"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Answer(_Frozen):
    """One model answer as it came back (this is what the on-disk cache keeps)."""

    text: str
    model: str
    """The model that served it, as the answer names it."""
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0


class Run(_Frozen):
    """One case answered by one target, and scored."""

    case_id: str
    agent: str
    target: str
    answer: Answer | None = None
    score: Score | None = None
    cost_usd: float | None = None
    """None when the price table has no entry for the serving model."""
    cached: bool = False
    attempts: int = 0
    error: str | None = None


class CaseReport(_Frozen):
    """A suite case with every target's run of it."""

    id: str
    agent: str
    messages: list[Message]
    expected_keywords: list[str]
    must_contain: str
    variants: dict[str, Run]


class TargetSummary(_Frozen):
    """One target's results on one agent's cases (or on the whole suite)."""

    target: str
    models: list[str]
    cases: int
    errors: int
    overall: float | None
    """Mean overall score of the scored cases."""
    pass_rate: float | None
    dimensions: dict[Dimension, float]
    cost_usd: float | None
    cost_per_request_usd: float | None
    mean_latency_s: float | None
    input_tokens: int
    output_tokens: int


class Comparison(_Frozen):
    """Primary minus reference on the same cases: mean, bootstrap CI, paired t-test, cost ratio."""

    primary: str
    reference: str
    pairs: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: Verdict
    cost_ratio: float | None
    """Primary's cost per request over the reference's; None when a price is unknown."""

    def phrase(self) -> str:
        """``+0.6 (95 % CI +0.2…+1.0), 1.3× the cost``."""
        text = f"{self.mean_diff:+.2f} (95 % CI {self.ci_low:+.2f}…{self.ci_high:+.2f}, {_p(self.p_value)})"
        if self.cost_ratio is not None:
            text += f", {self.cost_ratio:.1f}× the cost"
        return text


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


class AgentResult(_Frozen):
    """One agent: its targets' summaries, the comparison, whether it passes, what to do."""

    agent: str
    rank: int
    """1 = the best primary overall score."""
    targets: dict[str, TargetSummary]
    comparison: Comparison | None
    passed: bool
    """The primary target's mean overall is at or above the threshold."""
    recommendation: Recommendation
    reason: str


class CaseRef(_Frozen):
    """A case singled out in the report (weakest or strongest)."""

    case_id: str
    agent: str
    target: str
    overall: float
    weakest_dimension: Dimension
    weakest_value: float
    explanation: str
    reference_overall: float | None = None
    excerpt: str = ""


class AgentRoi(_Frozen):
    """What the fine-tune buys one agent at the given monthly volume."""

    agent: str
    requests_per_month: float
    score_gain: float | None
    pass_rate_gain: float | None
    extra_cost_per_request_usd: float | None
    extra_inference_usd_per_month: float | None
    extra_passes_per_month: float | None


class Roi(_Frozen):
    """Return on the fine-tuning cost, from the measured gains and costs."""

    finetune_cost_usd: float
    monthly_requests: int
    months: int
    value_per_pass_usd: float | None
    agents: list[AgentRoi]
    extra_inference_usd_per_month: float | None
    extra_passes_per_month: float | None
    cost_over_horizon_usd: float | None
    """Fine-tuning plus the extra inference over ``months``."""
    cost_per_extra_pass_usd: float | None
    """Cost over the horizon divided by the extra passing answers over it."""
    net_value_usd_per_month: float | None
    break_even_months: float | None
    note: str = ""


class Gate(_Frozen):
    """The CI verdict: the exit status and why."""

    exit_code: Literal[0, 3, 4]
    status: Literal["pass", "fail", "error"]
    reasons: list[str] = Field(default_factory=list)


class BenchReport(_Frozen):
    """Everything one benchmark run found."""

    suite: str
    suite_description: str
    mode: Literal["simulator", "config", "gateway"]
    source: str
    """The config file or gateway URL the answers came from."""
    targets: list[str]
    threshold: float
    scorer: str
    seed: int
    started_at: str
    duration_s: float
    overall: dict[str, TargetSummary]
    """Per target, over every agent's cases."""
    agents: list[AgentResult]
    weakest: list[CaseRef]
    strongest: list[CaseRef]
    roi: Roi | None
    gate: Gate
    errors: list[str]
    cases: list[CaseReport]

    @property
    def primary(self) -> str:
        return self.targets[0]

    @property
    def reference(self) -> str | None:
        return self.targets[1] if len(self.targets) > 1 else None
