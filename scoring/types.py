"""The data that flows through scoring: a sample to score and the score it gets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Dimension = Literal["quality", "relevance", "format", "specificity"]
DIMENSIONS: tuple[Dimension, ...] = ("quality", "relevance", "format", "specificity")


class Message(BaseModel):
    """One chat message, its content flattened to text."""

    model_config = ConfigDict(frozen=True)

    role: str
    content: str


class Sample(BaseModel):
    """One answer to score, from the benchmark or from live traffic."""

    model_config = ConfigDict(frozen=True)

    agent: str
    messages: tuple[Message, ...]
    answer: str
    expected_keywords: tuple[str, ...] = ()
    reference: str | None = None
    finish_reason: str | None = "stop"
    latency_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def prompt(self) -> str:
        """The text of the last user message: what the answer must respond to."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""

    @property
    def system(self) -> str:
        """The system prompt, or an empty string."""
        return "\n".join(m.content for m in self.messages if m.role == "system")


class DimensionScore(BaseModel):
    """One dimension's value on the 0–10 scale with a short reason."""

    model_config = ConfigDict(frozen=True)

    value: float = Field(ge=0.0, le=10.0)
    explanation: str = ""


class Score(BaseModel):
    """The full score of one sample: per dimension, overall and pass/fail against the threshold."""

    model_config = ConfigDict(frozen=True)

    dimensions: dict[Dimension, DimensionScore]
    overall: float = Field(ge=0.0, le=10.0)
    passed: bool
    threshold: float
    scorer: str = "heuristic"
    judge_cost_usd: float = 0.0
