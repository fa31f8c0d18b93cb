"""User feedback on an answer: attributed to the agent and variant that served it, counted once.

A rating is thumbs (``up``/``down``) or stars (1–5). It is counted in ``genesis_feedback_total``
and added to the A/B moments as the ``feedback`` pseudo-dimension on 0–1 (up 1, down 0, stars
(n-1)/4) — once per request id: a second rating of the same request is accepted but not counted.
Comments are free text from users: they are redacted and kept only in the agent's capped, expiring
comment list in the result store (never in logs or metrics).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.record import FeedbackComment
from gateway.sampling.redact import Redactor
from gateway.sampling.request_index import RequestIndex
from gateway.sampling.results import ScoreStore

Thumb = Literal["up", "down"]
Stars = Annotated[int, Field(ge=1, le=5)]


class FeedbackBody(BaseModel):
    """``POST /v1/feedback`` body."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    request_id: str = Field(min_length=1, max_length=128)
    """The ``x-request-id`` header of the answer being rated."""
    rating: Thumb | Stars = Field(description='"up", "down", or 1 to 5')
    comment: str | None = Field(default=None, max_length=2_000)

    def label(self) -> str:
        """The rating as the metric label: up, down, or 1..5."""
        return str(self.rating)

    def value(self) -> float:
        """The rating on 0–1, as the A/B moments take it."""
        if self.rating == "up":
            return 1.0
        if self.rating == "down":
            return 0.0
        return (int(self.rating) - 1) / 4


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What the feedback endpoint answers."""

    object: str = "feedback"
    request_id: str
    agent: str
    variant: str
    rating: str
    counted: bool
    """False when this request had been rated already (the first rating counts)."""


class FeedbackDesk:
    """Looks up who answered, counts the rating once, keeps the comment."""

    def __init__(self, *, index: RequestIndex, results: ScoreStore, metrics: SamplerMetrics, redact: Redactor):
        self._index = index
        self._results = results
        self._metrics = metrics
        self._redact = redact

    async def submit(self, body: FeedbackBody, *, check: Callable[[str], None] | None = None) -> Receipt | None:
        """Record the feedback; None when the request id is unknown or expired.

        ``check`` is called with the agent before anything is counted (it raises to refuse).
        """
        found = await self._index.lookup(body.request_id)
        if found is None:
            return None
        agent, variant = found
        if check is not None:
            check(agent)
        comment = None
        if body.comment:
            comment = FeedbackComment(
                request_id=body.request_id,
                agent=agent,
                variant=variant,
                rating=body.label(),
                text=self._redact(body.comment),
                at=time.time(),
            )
        counted = await self._results.record_feedback(body.request_id, agent, variant, body.value(), comment)
        if counted:
            self._metrics.feedback.labels(agent, variant, body.label()).inc()
        return Receipt(request_id=body.request_id, agent=agent, variant=variant, rating=body.label(), counted=counted)
