"""Profiles: per-agent dimension and signal weights, with a default for unknown agents."""

import pytest
from pydantic import ValidationError

from scoring.profiles import DEFAULT_PROFILE, DEFAULT_PROFILES, AgentProfile, DimensionWeights, Profiles


def test_unknown_agent_gets_default() -> None:
    """An agent without its own profile gets the default profile."""
    assert Profiles().for_agent("nobody") == DEFAULT_PROFILE


def test_named_agents_have_their_needs() -> None:
    """Support weighs empathy, legal citations, QA code, analyst numbers above the default."""
    profiles = Profiles()
    assert profiles.for_agent("support_agent").signals.empathy > DEFAULT_PROFILE.signals.empathy
    assert profiles.for_agent("legal_agent").signals.citations > DEFAULT_PROFILE.signals.citations
    assert profiles.for_agent("qa_agent").signals.code > DEFAULT_PROFILE.signals.code
    assert profiles.for_agent("analyst_agent").signals.numbers > DEFAULT_PROFILE.signals.numbers
    assert set(DEFAULT_PROFILES) <= set(profiles.agents)


def test_dimension_weight_lookup() -> None:
    """DimensionWeights.of returns the named dimension's weight."""
    weights = DimensionWeights(quality=2.0, relevance=0.5, format=1.0, specificity=0.0)
    assert [weights.of(d) for d in ("quality", "relevance", "format", "specificity")] == [2.0, 0.5, 1.0, 0.0]


def test_custom_table_overrides() -> None:
    """A custom table replaces the agents and the default."""
    custom = AgentProfile(length_budget_words=99)
    profiles = Profiles(agents={"x": custom}, default=AgentProfile(length_budget_words=7))
    assert profiles.for_agent("x").length_budget_words == 99
    assert profiles.for_agent("support_agent").length_budget_words == 7


def test_bad_weights_rejected() -> None:
    """Negative weights and unknown fields are configuration errors."""
    with pytest.raises(ValidationError):
        DimensionWeights(quality=-1.0)
    with pytest.raises(ValidationError):
        AgentProfile.model_validate({"weights": {}, "colour": "blue"})
