"""``POST /v1/feedback``: a user's rating of one answer, attributed by the answer's request id.

Body: ``{"request_id": "...", "rating": "up" | "down" | 1..5, "comment": "..."}``. The agent and
variant are looked up from the request id (``x-request-id`` of the answer); an unknown or expired
id is 404, a malformed body 400, both in the Mistral error shape. With agent keys configured, the
caller's key must cover the agent that answered.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from pydantic import ValidationError
from redis.exceptions import RedisError

from gateway.errors import BadRequest, GatewayError, NotFound
from gateway.sampling.feedback import FeedbackBody
from gateway.settings import describe_validation_error
from gateway.state import state_of


class UnknownRequest(NotFound):
    type = "not_found"


class FeedbackUnavailable(GatewayError):
    status = 503
    type = "service_unavailable"


@post(
    ["/v1/feedback", "/feedback"],
    status_code=200,
    summary="Rate an answer (thumbs up/down or 1-5 stars)",
    description="`request_id` is the `x-request-id` header of the answer; the agent and variant are looked up from it.",
    include_in_schema=True,
)
async def submit_feedback(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Count one user rating for the agent and variant that produced the answer."""
    state = state_of(request)
    caller = state.keys.authenticate(request.headers.get("authorization"))
    body = _parse(await request.body())
    if state.feedback is None:
        raise FeedbackUnavailable("feedback is not configured in this gateway", code="feedback_disabled")
    try:
        receipt = await state.feedback.submit(body, check=lambda agent: state.keys.check(caller, agent))
    except (RedisError, OSError, TimeoutError) as exc:
        raise FeedbackUnavailable("the feedback store is unreachable; retry later", code="store_unavailable") from exc
    if receipt is None:
        raise UnknownRequest(
            f"unknown or expired request id {body.request_id!r}: feedback must name the x-request-id of a "
            "recent agent answer",
            code="unknown_request_id",
        )
    return Response(msgspec.json.encode(receipt), media_type="application/json")


def _parse(raw: bytes) -> FeedbackBody:
    try:
        return FeedbackBody.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise BadRequest(f"invalid feedback: {describe_validation_error(exc)}", code="invalid_feedback") from exc
