"""The scoring worker: what is skipped, what is scored once, and the judge's rate limit and budget."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry

from gateway.metrics.quality import ScoringMetrics
from gateway.sampling.judge import JudgeRunner, MemorySpendLedger, utc_day
from gateway.sampling.results import MemoryScoreStore
from gateway.sampling.worker import Outcome, ScoringWorker, skip_reason
from gateway.settings import JudgeSettings, ScoringSettings
from scoring.composite import Composite, ScoringConfig
from scoring.scorers.judge import JudgeReply, JudgeRequest
from tests.sampling.helpers import record

VERDICT = json.dumps({d: {"value": 10, "reason": "ok"} for d in ("quality", "relevance", "format", "specificity")})


class ScriptedJudge:
    """A judge model that answers from a script and counts its calls."""

    def __init__(self, *replies: str, cost: float = 0.01):
        self.replies = list(replies)
        self.calls = 0
        self.cost = cost

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        self.calls += 1
        return JudgeReply(text=self.replies.pop(0) if self.replies else VERDICT, cost_usd=self.cost)


def _worker(judge: ScriptedJudge | None = None, **judge_settings: float) -> tuple[ScoringWorker, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = ScoringMetrics(registry)
    runner = None
    if judge is not None:
        settings = JudgeSettings(enabled=True, upstream="sim", model="judge", **judge_settings)  # type: ignore[arg-type]
        judged = Composite(ScoringConfig(judge=settings.rubric), judge_model=judge)
        runner = JudgeRunner(judged, settings, MemorySpendLedger(), metrics)
    store = MemoryScoreStore(ScoringSettings())
    return ScoringWorker(composite=Composite(), store=store, metrics=metrics, judge=runner), registry


def test_truncated_failed_and_empty_answers_are_not_scored() -> None:
    """Finish reason length or error, an error on the exchange, or no text: a skip reason, not a score."""
    assert skip_reason(record(finish_reason="length")) == "truncated"
    assert skip_reason(record(finish_reason="error")) == "error"
    assert skip_reason(record(error="client_disconnected")) == "error"
    assert skip_reason(record(answer="  ")) == "empty"
    assert skip_reason(record()) is None


async def test_skipped_samples_are_counted() -> None:
    """A truncated answer counts in the skipped metric and records no score."""
    worker, registry = _worker()
    assert await worker.process(record(finish_reason="length")) is Outcome.SKIPPED
    assert registry.get_sample_value("genesis_samples_skipped_total", {"agent": "qa_agent", "reason": "truncated"}) == 1
    assert (
        registry.get_sample_value(
            "genesis_quality_scored_total", {"agent": "qa_agent", "variant": "candidate", "outcome": "fail"}
        )
        is None
    )


async def test_a_redelivered_skipped_sample_is_counted_once() -> None:
    """A truncated answer delivered twice (a worker died before acknowledging it) counts one skip."""
    worker, registry = _worker()
    assert await worker.process(record("cut", finish_reason="length")) is Outcome.SKIPPED
    assert await worker.process(record("cut", finish_reason="length")) is Outcome.DUPLICATE
    assert registry.get_sample_value("genesis_samples_skipped_total", {"agent": "qa_agent", "reason": "truncated"}) == 1


async def test_a_redelivered_sample_is_observed_once() -> None:
    """Processing the same request twice records and observes it once."""
    worker, registry = _worker()
    assert await worker.process(record("same")) is Outcome.SCORED
    assert await worker.process(record("same")) is Outcome.DUPLICATE
    labels = {"agent": "qa_agent", "variant": "candidate", "dimension": "overall"}
    assert registry.get_sample_value("genesis_quality_score_count", labels) == 1


async def test_the_judge_is_used_and_its_cost_counted() -> None:
    """With the judge on, its verdict is blended into the score and its cost counted per agent."""
    judge = ScriptedJudge()
    worker, registry = _worker(judge)
    assert await worker.process(record("j1")) is Outcome.SCORED
    assert judge.calls == 1
    assert registry.get_sample_value("genesis_judge_cost_usd_total", {"agent": "qa_agent"}) == 0.01


async def test_the_judge_rate_limit_falls_back_to_heuristics() -> None:
    """Past the burst, samples are scored by the heuristics alone and the skip of the judge is counted."""
    judge = ScriptedJudge()
    worker, registry = _worker(judge, requests_per_s=0.001, burst=1)
    for i in range(3):
        assert await worker.process(record(f"r{i}")) is Outcome.SCORED
    assert judge.calls == 1
    assert registry.get_sample_value("genesis_scoring_errors_total", {"reason": "judge_rate"}) == 2


async def test_the_daily_budget_stops_the_judge_per_agent() -> None:
    """Once an agent's judge spend today reaches the budget, its samples get heuristic scores only."""
    judge = ScriptedJudge(cost=0.6)
    worker, registry = _worker(judge, daily_budget_usd=1.0, burst=10)
    for i in range(4):
        await worker.process(record(f"r{i}"))
    assert judge.calls == 2  # 0.6, then 1.2 >= 1.0: no more calls today
    assert registry.get_sample_value("genesis_scoring_errors_total", {"reason": "judge_budget"}) == 2
    assert utc_day(0) == "19700101"


async def test_a_failing_judge_falls_back_and_still_charges() -> None:
    """Broken judge replies (after its retry) give the heuristic score; the calls' cost still counts."""
    judge = ScriptedJudge("not json", "still not json")
    worker, registry = _worker(judge)
    assert await worker.process(record("f1")) is Outcome.SCORED
    assert judge.calls == 2
    assert registry.get_sample_value("genesis_scoring_errors_total", {"reason": "judge"}) == 1
    assert registry.get_sample_value("genesis_judge_cost_usd_total", {"agent": "qa_agent"}) == 0.02
