"""LLM judge: strict parsing, one retry with the error, JudgeError after two failures, cost summed."""

import json

import pytest

from scoring.composite import Composite, ScoringConfig
from scoring.scorers.judge import JudgeConfig, JudgeError, LLMJudge
from tests.scoring.fakes import ScriptedJudgeModel
from tests.scoring.helpers import sample

SAMPLE = sample("How do I test async code in pytest?", "Use pytest-asyncio and `await` inside `async def` tests.")


def verdict(value: float = 8.0, **extra: object) -> str:
    body: dict[str, object] = {d: {"value": value, "reason": "fine"} for d in ("quality", "relevance", "format")}
    body["specificity"] = {"value": value, "reason": "fine"}
    body.update(extra)
    return json.dumps(body)


async def test_valid_reply_is_parsed() -> None:
    """A valid JSON reply gives four dimension scores after one call."""
    model = ScriptedJudgeModel(verdict(7.5))
    result = await LLMJudge(model).judge(SAMPLE)
    assert result.attempts == 1
    assert {d.value for d in result.dimensions.values()} == {7.5}
    assert model.requests[0].temperature == 0.0
    assert model.requests[0].seed == 7


async def test_broken_json_then_valid_retry() -> None:
    """Broken JSON triggers one retry that tells the model what was wrong."""
    model = ScriptedJudgeModel("{not json", verdict(6.0))
    result = await LLMJudge(model).judge(SAMPLE)
    assert result.attempts == 2
    assert "not valid JSON" in model.requests[1].messages[-1].content


async def test_broken_twice_raises() -> None:
    """Two bad replies raise JudgeError carrying the cost spent."""
    model = ScriptedJudgeModel("nope", "still nope", cost_usd=0.01)
    with pytest.raises(JudgeError) as err:
        await LLMJudge(model).judge(SAMPLE)
    assert err.value.cost_usd == pytest.approx(0.02)


async def test_out_of_range_is_rejected_not_clamped() -> None:
    """A value above 10 is a failed parse; the retry's valid value is used."""
    model = ScriptedJudgeModel(verdict(11.0), verdict(9.0))
    result = await LLMJudge(model).judge(SAMPLE)
    assert result.attempts == 2
    assert "less than or equal to 10" in model.requests[1].messages[-1].content
    assert result.dimensions["quality"].value == 9.0


async def test_missing_dimension_is_rejected() -> None:
    """A reply without every dimension fails twice and raises."""
    partial = json.dumps({"quality": {"value": 5, "reason": "x"}})
    with pytest.raises(JudgeError, match="relevance"):
        await LLMJudge(ScriptedJudgeModel(partial, partial)).judge(SAMPLE)


async def test_cost_summed_into_score() -> None:
    """The composite's judge_cost_usd is the sum over both calls."""
    model = ScriptedJudgeModel("oops", verdict(10.0), cost_usd=0.003)
    composite = Composite(ScoringConfig(judge=JudgeConfig(weight=0.5)), judge_model=model)
    score = await composite.ascore(SAMPLE)
    assert score.judge_cost_usd == pytest.approx(0.006)
    assert score.scorer == "heuristic+judge"


async def test_models_pass_verdict_is_ignored() -> None:
    """A low-scoring verdict that claims 'pass' still fails the threshold."""
    model = ScriptedJudgeModel(verdict(1.0, passed=True, overall=10))
    composite = Composite(ScoringConfig(judge=JudgeConfig(weight=1.0)), judge_model=model)
    score = await composite.ascore(SAMPLE)
    assert score.overall == pytest.approx(1.0)
    assert not score.passed


async def test_judge_blend_weight() -> None:
    """With weight 0.5 each dimension is the mean of heuristic and judge values."""
    heuristic = Composite().score(SAMPLE)
    model = ScriptedJudgeModel(verdict(10.0))
    blended = await Composite(ScoringConfig(judge=JudgeConfig(weight=0.5)), judge_model=model).ascore(SAMPLE)
    for dim, value in blended.dimensions.items():
        assert value.value == pytest.approx((heuristic.dimensions[dim].value + 10.0) / 2, abs=0.01)
