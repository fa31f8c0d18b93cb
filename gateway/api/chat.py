"""``POST /v1/chat/completions``: the Mistral (and OpenAI) chat endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.response import Stream

from gateway.proxy import Complete
from gateway.state import state_of

_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@post(
    ["/v1/chat/completions", "/chat/completions"],
    status_code=200,
    summary="Chat completion (Mistral wire format), streaming or not",
    description=(
        "`model` is an agent alias (the request joins the agent's experiment) or a model id the gateway "
        "serves. `X-Genesis-User` makes the assignment sticky per unit."
    ),
    include_in_schema=True,
)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[bytes] | Stream:
    """Forward one chat request to the model its agent's experiment assigns."""
    state = state_of(request)
    result = await state.proxy.handle(request.headers, await request.body())
    if isinstance(result, Complete):
        return Response(result.body, media_type=result.content_type, headers=result.headers)
    return Stream(result.events, media_type="text/event-stream", headers={**_SSE_HEADERS, **result.headers})
