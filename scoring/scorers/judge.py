"""The LLM judge: a rubric prompt, an injected model call, strict parsing with one retry.

Error tree::

    JudgeError            the judge gave no usable score after the retry; the caller decides
                          whether to fall back to heuristics or drop the sample

The model call is a `JudgeModel` protocol, so the judge runs through whatever upstream the
caller owns (and through a scripted fake in tests). The reply must be a JSON object with all
four dimensions on 0–10, each with a short reason; anything else (broken JSON, a missing
dimension, a value out of range) is a failed parse, never silently repaired or clamped. Any
pass/fail verdict the model volunteers is ignored: passing is decided in code from the numbers.
"""

from __future__ import annotations

import json
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scoring.types import DIMENSIONS, Dimension, DimensionScore, Message, Sample

JUDGE_SYSTEM = """You are a strict grader of answers given by an AI agent. Grade the ANSWER to the \
CONVERSATION on four dimensions, each an integer or decimal from 0 to 10:
- quality: clear, correct, no repetition, no needless refusal or hedging, tone right for the agent
- relevance: answers exactly what was asked, follows every instruction and constraint
- format: structure fits the request (lists for steps, closed code blocks, sane length), not truncated
- specificity: concrete details (numbers, commands, code, named standards, steps) instead of vague filler
Reply with ONLY a JSON object, no prose and no code fence, of this shape:
{"quality": {"value": 0-10, "reason": "..."}, "relevance": {...}, "format": {...}, "specificity": {...}}
Keep each reason under 25 words."""


class JudgeError(Exception):
    """The judge model gave no valid score after one retry; `cost_usd` is what the calls cost."""

    def __init__(self, message: str, *, cost_usd: float = 0.0) -> None:
        super().__init__(message)
        self.cost_usd = cost_usd


class JudgeRequest(BaseModel):
    """One call to the judge model."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    temperature: float = 0.0
    seed: int = 7
    max_tokens: int = 400


class JudgeReply(BaseModel):
    """The judge model's raw reply and what it cost."""

    model_config = ConfigDict(frozen=True)

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = Field(default=0.0, ge=0.0)


class JudgeModel(Protocol):
    """The injected model call (an upstream adapter in the gateway, a scripted fake in tests)."""

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Send the rubric conversation and return the model's reply."""
        ...


class JudgeConfig(BaseModel):
    """How the judge is called and how much it counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of each dimension taken from the judge; the rest comes from the heuristics."""
    seed: int = 7
    """Fixed seed so repeated judgements of the same sample agree where the upstream honours it."""
    max_tokens: int = Field(default=400, gt=0)
    max_answer_chars: int = Field(default=6000, gt=0)
    """Longer answers are cut before judging to bound cost; the cut is marked in the prompt."""


class _JudgedDimension(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: float = Field(ge=0.0, le=10.0)
    reason: str = Field(default="", max_length=400)


class _Verdict(BaseModel):
    # extra="ignore": a volunteered "pass"/"overall" is dropped, never trusted.
    model_config = ConfigDict(extra="ignore")

    quality: _JudgedDimension
    relevance: _JudgedDimension
    format: _JudgedDimension
    specificity: _JudgedDimension


class JudgeResult(BaseModel):
    """The judge's four dimension scores and the summed cost of every call it took."""

    model_config = ConfigDict(frozen=True)

    dimensions: dict[Dimension, DimensionScore]
    cost_usd: float
    attempts: int


def render_prompt(sample: Sample, max_answer_chars: int) -> tuple[Message, ...]:
    """The rubric conversation for one sample."""
    conversation = "\n".join(f"[{m.role}] {m.content}" for m in sample.messages)
    answer = sample.answer
    if len(answer) > max_answer_chars:
        answer = answer[:max_answer_chars] + "\n[... answer cut for grading ...]"
    user = f"AGENT: {sample.agent}\n\nCONVERSATION:\n{conversation}\n\nANSWER:\n{answer}"
    if sample.expected_keywords:
        user += "\n\nA good answer mentions: " + ", ".join(sample.expected_keywords)
    return (Message(role="system", content=JUDGE_SYSTEM), Message(role="user", content=user))


def parse_verdict(text: str) -> dict[Dimension, DimensionScore]:
    """Parse the model's reply strictly; raises ValueError with a message the model can act on."""
    try:
        raw = json.loads(_strip_fence(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"reply is not valid JSON ({exc.msg} at char {exc.pos})") from exc
    try:
        verdict = _Verdict.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"reply does not match the schema: {problems}") from exc
    return {
        d: DimensionScore(value=getattr(verdict, d).value, explanation=getattr(verdict, d).reason) for d in DIMENSIONS
    }


def _strip_fence(text: str) -> str:
    # Models often wrap JSON in a ``` fence despite being told not to; that is harmless framing.
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[-1].rsplit("```", 1)[0]
    return stripped


class LLMJudge:
    """Scores all four dimensions with an injected model; one retry, then JudgeError."""

    name: str = "judge"

    def __init__(self, model: JudgeModel, config: JudgeConfig | None = None) -> None:
        self._model = model
        self._config = config or JudgeConfig()

    async def judge(self, sample: Sample) -> JudgeResult:
        """Ask the model, parse strictly, retry once with the parse error, else raise JudgeError."""
        messages = render_prompt(sample, self._config.max_answer_chars)
        cost, error = 0.0, ""
        for attempt in (1, 2):
            reply = await self._model.complete(
                JudgeRequest(messages=messages, seed=self._config.seed, max_tokens=self._config.max_tokens)
            )
            cost += reply.cost_usd
            try:
                return JudgeResult(dimensions=parse_verdict(reply.text), cost_usd=cost, attempts=attempt)
            except ValueError as exc:
                error = str(exc)
                messages = (
                    *messages,
                    Message(role="assistant", content=reply.text),
                    Message(
                        role="user",
                        content=f"Your reply was rejected: {error}. Reply again with "
                        "ONLY the JSON object, every value a number from 0 to 10.",
                    ),
                )
        raise JudgeError(f"judge reply invalid after retry: {error}", cost_usd=cost)
