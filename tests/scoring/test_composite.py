"""Composite: weighted overall, threshold decided in code, profiles per agent, config errors."""

import pytest

from scoring.composite import Composite, ScoringConfig, ScoringConfigError
from scoring.profiles import AgentProfile, DimensionWeights, Profiles
from scoring.scorers.judge import JudgeConfig
from scoring.types import DIMENSIONS
from tests.scoring.helpers import sample

PROMPT = "How do I test async functions in pytest?"
ANSWER = (
    'Install pytest-asyncio with `pip install pytest-asyncio`, set `asyncio_mode = "auto"` in '
    "pyproject.toml, then write `async def test_x():` and `await` the coroutine inside it."
)


def test_overall_is_weighted_mean() -> None:
    """overall equals the profile-weighted mean of the four dimension values."""
    weights = DimensionWeights(quality=3.0, relevance=1.0, format=0.0, specificity=0.0)
    config = ScoringConfig(profiles=Profiles(agents={}, default=AgentProfile(weights=weights)))
    score = Composite(config).score(sample(PROMPT, ANSWER))
    expected = (3 * score.dimensions["quality"].value + score.dimensions["relevance"].value) / 4
    assert score.overall == pytest.approx(expected, abs=0.01)
    assert set(score.dimensions) == set(DIMENSIONS)


def test_threshold_decides_pass() -> None:
    """passed is overall >= threshold, with the threshold taken from the config."""
    s = sample(PROMPT, ANSWER, agent="qa_agent")
    overall = Composite().score(s).overall
    assert Composite(ScoringConfig(threshold=overall)).score(s).passed
    assert not Composite(ScoringConfig(threshold=min(10.0, overall + 0.01))).score(s).passed


def test_unknown_agent_uses_default_profile() -> None:
    """An agent without a profile is scored like the default profile."""
    a = Composite().score(sample(PROMPT, ANSWER, agent="mystery_agent"))
    b = Composite().score(sample(PROMPT, ANSWER, agent="default"))
    assert a.overall == b.overall


def test_agent_profiles_change_overall() -> None:
    """The same answer is weighed differently for different agents."""
    scores = {a: Composite().score(sample(PROMPT, ANSWER, agent=a)).overall for a in ("qa_agent", "legal_agent")}
    assert scores["qa_agent"] != scores["legal_agent"]


def test_judge_without_model_is_a_config_error() -> None:
    """Configuring the judge without giving a model fails at construction."""
    with pytest.raises(ScoringConfigError, match="judge"):
        Composite(ScoringConfig(judge=JudgeConfig()))


def test_config_is_frozen() -> None:
    """The config cannot be changed after it is built."""
    config = ScoringConfig()
    with pytest.raises(ValueError, match="frozen"):
        config.threshold = 1.0  # type: ignore[misc]


def test_shared_analysis_matches_each_scorer() -> None:
    """The composite's shared analysis gives each dimension exactly what its scorer gives alone."""
    from scoring.scorers import FormatScorer, QualityScorer, RelevanceScorer, SpecificityScorer  # noqa: PLC0415

    s = sample(PROMPT, ANSWER, agent="qa_agent")
    score = Composite().score(s)
    for scorer in (QualityScorer(), RelevanceScorer(), FormatScorer(), SpecificityScorer()):
        assert score.dimensions[scorer.dimension] == scorer.score(s)


def test_placeholder_answer_scores_zero_overall() -> None:
    """A <no-output> answer scores 0 overall, below any real answer."""
    assert Composite().score(sample(PROMPT, "<no-output>")).overall == 0.0
    assert Composite().score(sample(PROMPT, ANSWER)).overall > 0.0
