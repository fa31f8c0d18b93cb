"""The shapes a sample takes after the request: the queued record and the scored result.

The request path hands over the finished ``Exchange`` itself (no copy, no encoding). Off the
request path, ``record_of`` turns it into a ``SampleRecord``: messages flattened to role and text,
everything redacted. That record is what crosses the Redis stream (JSON) and what the scorers see;
a ``ScoredSample`` adds the score and is what the result store keeps and the export reads.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from gateway.exchange import Exchange
from gateway.sampling.redact import Redactor
from gateway.wire import content_text
from scoring.types import Message, Sample, Score


class ChatMessage(msgspec.Struct, frozen=True):
    """One prompt message, its content flattened to text."""

    role: str
    content: str


class SampleRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One sampled answer, redacted, as it waits in the queue."""

    request_id: str
    agent: str
    variant: str
    model: str
    messages: list[ChatMessage]
    answer: str
    finish_reason: str | None = None
    error: str | None = None
    latency_s: float = 0.0
    ttft_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    received_at: float = 0.0
    """Wall-clock time the request arrived."""
    offered_at: float = 0.0
    """Wall-clock time the answer ended and the sample was offered."""


class DimensionResult(msgspec.Struct, frozen=True):
    value: float
    explanation: str = ""


class ScoredSample(msgspec.Struct, frozen=True, kw_only=True):
    """A sample with its score: what the result store keeps and the export writes."""

    record: SampleRecord
    dimensions: dict[str, DimensionResult]
    """The four dimensions on the 0–10 scale."""
    overall: float
    passed: bool
    threshold: float
    scorer: str
    judge_cost_usd: float = 0.0
    scored_at: float = 0.0

    def value(self, dimension: str) -> float:
        """A dimension's value, ``overall`` included; KeyError for an unknown one."""
        if dimension == "overall":
            return self.overall
        return self.dimensions[dimension].value

    def values(self) -> dict[str, float]:
        """Every dimension and ``overall``, as the metrics and the A/B store take them."""
        values = {name: dim.value for name, dim in self.dimensions.items()}
        values["overall"] = self.overall
        return values


class FeedbackComment(msgspec.Struct, frozen=True, kw_only=True):
    """A user's comment on an answer, redacted."""

    request_id: str
    agent: str
    variant: str
    rating: str
    text: str
    at: float


record_encoder = msgspec.json.Encoder()
record_decoder = msgspec.json.Decoder(SampleRecord)
scored_decoder = msgspec.json.Decoder(ScoredSample)
comment_decoder = msgspec.json.Decoder(FeedbackComment)


def record_of(ex: Exchange, redact: Redactor) -> SampleRecord:
    """The redacted record of a finished, sampled exchange."""
    return SampleRecord(
        request_id=ex.request_id,
        agent=ex.agent,
        variant=ex.variant,
        model=ex.model,
        messages=[_message(m, redact) for m in ex.messages or ()],
        answer=redact(ex.answer) if ex.answer else "",
        finish_reason=ex.finish_reason,
        error=ex.error,
        latency_s=round(ex.duration_s, 6),
        ttft_s=ex.ttft_s,
        input_tokens=ex.input_tokens,
        output_tokens=ex.output_tokens,
        received_at=ex.received_at,
        offered_at=ex.received_at + ex.duration_s,
    )


def _message(raw: Any, redact: Redactor) -> ChatMessage:
    if not isinstance(raw, dict):
        return ChatMessage(role="user", content="")
    text = content_text(raw.get("content"))
    return ChatMessage(role=str(raw.get("role", "user")), content=redact(text) if text else "")


def sample_of(record: SampleRecord) -> Sample:
    """The scoring library's view of a record."""
    return Sample(
        agent=record.agent,
        messages=tuple(Message(role=m.role, content=m.content) for m in record.messages),
        answer=record.answer,
        finish_reason=record.finish_reason,
        latency_s=record.latency_s,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
    )


def scored_of(record: SampleRecord, score: Score, *, now: float | None = None) -> ScoredSample:
    """The stored result of scoring ``record``."""
    return ScoredSample(
        record=record,
        dimensions={d: DimensionResult(s.value, s.explanation) for d, s in score.dimensions.items()},
        overall=score.overall,
        passed=score.passed,
        threshold=score.threshold,
        scorer=score.scorer,
        judge_cost_usd=score.judge_cost_usd,
        scored_at=time.time() if now is None else now,
    )
