"""Per-agent scoring profiles: how much each dimension and each concrete signal counts for an agent.

An agent's particular needs (support's empathy, legal's citations, QA's code) are data here, read
by the scorers, not branches in the scorers. Unknown agents get `DEFAULT_PROFILE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from scoring.types import Dimension


class DimensionWeights(BaseModel):
    """Relative weights of the four dimensions in the overall score (normalised when used)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quality: float = Field(default=1.0, ge=0.0)
    relevance: float = Field(default=1.0, ge=0.0)
    format: float = Field(default=1.0, ge=0.0)
    specificity: float = Field(default=1.0, ge=0.0)

    def of(self, dimension: Dimension) -> float:
        """The weight of one dimension."""
        return float(getattr(self, dimension))


class SignalWeights(BaseModel):
    """Multipliers for the concrete signals the specificity and quality scorers count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    numbers: float = Field(default=1.0, ge=0.0)
    """Figures, units, percentages, dates."""
    code: float = Field(default=1.0, ge=0.0)
    """Code blocks and inline code."""
    commands: float = Field(default=1.0, ge=0.0)
    """Shell commands, CLI flags, file paths."""
    citations: float = Field(default=1.0, ge=0.0)
    """Named standards, laws, articles, sections, URLs."""
    steps: float = Field(default=1.0, ge=0.0)
    """Numbered or bulleted steps."""
    empathy: float = Field(default=0.0, ge=0.0)
    """How much an empathetic tone counts for quality (0 = not at all)."""
    formality: float = Field(default=0.0, ge=0.0)
    """How much casual slang counts against quality (0 = not at all)."""


class AgentProfile(BaseModel):
    """Everything agent-specific about scoring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: DimensionWeights = DimensionWeights()
    signals: SignalWeights = SignalWeights()
    length_budget_words: int = Field(default=30, ge=1)
    """Answer length (words) that costs nothing in format, when the prompt is shorter than this."""


# Tuned on the tune half of the human pairwise sets (see scoring/README.md). On generic
# instructions specificity mostly tracks length, which the LLMBar pairs punish, so it carries no
# weight by default; the agent profiles below, written for long task answers, weight it again.
DEFAULT_PROFILE = AgentProfile(
    weights=DimensionWeights(quality=1.0, relevance=0.25, format=1.0, specificity=0.0),
    length_budget_words=30,
)
# The agents answer short questions with long, structured answers: their budget is larger.
AGENT_LENGTH_BUDGET = 300

DEFAULT_PROFILES: Mapping[str, AgentProfile] = MappingProxyType(
    {
        "support_agent": AgentProfile(
            weights=DimensionWeights(quality=1.3, relevance=1.0, format=0.8, specificity=0.8),
            signals=SignalWeights(empathy=1.0, code=0.5, citations=0.5),
            length_budget_words=200,
        ),
        "legal_agent": AgentProfile(
            weights=DimensionWeights(quality=1.0, relevance=1.0, format=0.8, specificity=1.2),
            signals=SignalWeights(citations=2.0, code=0.2, commands=0.2, formality=1.0),
            length_budget_words=AGENT_LENGTH_BUDGET,
        ),
        "content_agent": AgentProfile(
            weights=DimensionWeights(quality=1.3, relevance=1.0, format=1.0, specificity=0.7),
            signals=SignalWeights(code=0.2, commands=0.2, citations=0.5),
            length_budget_words=AGENT_LENGTH_BUDGET,
        ),
        "qa_agent": AgentProfile(
            weights=DimensionWeights(quality=0.9, relevance=1.0, format=1.1, specificity=1.2),
            signals=SignalWeights(code=2.0, commands=1.5, citations=0.5),
            length_budget_words=AGENT_LENGTH_BUDGET,
        ),
        "analyst_agent": AgentProfile(
            weights=DimensionWeights(quality=1.0, relevance=1.0, format=1.0, specificity=1.2),
            signals=SignalWeights(numbers=2.0, code=0.8, citations=0.8),
            length_budget_words=AGENT_LENGTH_BUDGET,
        ),
    }
)


class Profiles(BaseModel):
    """The profile table: named agents plus the default for every other agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents: dict[str, AgentProfile] = Field(default_factory=lambda: dict(DEFAULT_PROFILES))
    default: AgentProfile = DEFAULT_PROFILE

    def for_agent(self, agent: str) -> AgentProfile:
        """The profile of an agent, or the default one."""
        return self.agents.get(agent, self.default)
