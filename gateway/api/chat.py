"""``POST /v1/chat/completions``: the Mistral (and OpenAI) chat endpoint, as a plain ASGI handler.

Every agent request passes here, so this one route skips Litestar's handler machinery (signature
model, response objects, the task group of ``Stream``): it reads the body from ``receive`` and
writes the answer with two or three ``send`` calls. Measured with ``benchmarks/`` that saves ~60 µs
of CPU per request, about a quarter of a bare Litestar passthrough (docs/performance.md). Errors
still go through the app's exception handlers, so they keep the Mistral shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from litestar import Litestar
from litestar.enums import ParamType
from litestar.exceptions import ClientException, MethodNotAllowedException
from litestar.handlers import asgi
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    RequestBody,
    Schema,
)
from litestar.types import HTTPResponseBodyEvent, HTTPScope, Receive, Scope, Send

from gateway.errors import PayloadTooLarge
from gateway.proxy import READ_HEADERS, Complete, Streaming
from gateway.state import app_state

_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
_END: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}


@asgi(["/v1/chat/completions", "/chat/completions"], copy_scope=False)
async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
    """Forward one chat request to the model its agent's experiment assigns."""
    if cast(HTTPScope, scope)["method"] != "POST":
        raise MethodNotAllowedException(headers={"Allow": "POST"})
    state = app_state(scope["litestar_app"])
    headers = {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in READ_HEADERS}
    try:
        body = await _read_body(receive, state.config.max_body_bytes)
    except PayloadTooLarge as err:
        raise state.proxy.refused(headers, err) from None
    result = await state.proxy.handle(headers, body)
    if isinstance(result, Complete):
        try:
            await _send_complete(send, result)
        finally:
            result.sent()
    else:
        await _send_stream(send, receive, result)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; ``PayloadTooLarge`` as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientException("client disconnected before sending the body", status_code=400)
        chunk = cast(bytes, message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                "request body is larger than the gateway accepts (max_body_bytes)", code="request_too_large"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def _send_complete(send: Send, result: Complete) -> None:
    headers = [
        (b"content-type", result.content_type.encode("latin-1")),
        (b"content-length", str(len(result.body)).encode()),
        *_encoded(result.headers),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": result.body, "more_body": False})


async def _send_stream(send: Send, receive: Receive, result: Streaming) -> None:
    """Relay the events; a client that hangs up cancels the relay, which closes the upstream stream."""
    task = asyncio.current_task()
    hung_up = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(receive, hung_up, task))
    events: AsyncIterator[bytes] = result.events
    try:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*_SSE_HEADERS, *_encoded(result.headers)]}
        )
        async for chunk in events:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        watcher.cancel()  # before the last send: once the response is complete, receive() reports a disconnect
        await send(_END)
    except asyncio.CancelledError:
        if not hung_up.is_set() or task is None:
            raise
        task.uncancel()  # our own cancellation: the client left, nothing is wrong with the server
    finally:
        watcher.cancel()
        try:
            await cast(Any, events).aclose()
            await result.abandon()
        finally:
            result.sent()


async def _watch_disconnect(receive: Receive, hung_up: asyncio.Event, task: asyncio.Task[Any] | None) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            hung_up.set()
            if task is not None:
                task.cancel()
            return


def document_chat(app: Litestar) -> None:
    """Add the chat route to the app's OpenAPI schema: Litestar leaves plain ASGI handlers out of it."""
    json_object = Schema(type=OpenAPIType.OBJECT, additional_properties=True)
    header = Parameter(
        name="X-Genesis-User",
        param_in=ParamType.HEADER,
        required=False,
        description="Unit of sticky assignment (user, session, tenant).",
        schema=Schema(type=OpenAPIType.STRING),
    )
    force = Parameter(
        name="X-Genesis-Variant",
        param_in=ParamType.HEADER,
        required=False,
        description="Force 'candidate' or 'baseline' (only for agents with allow_force_variant).",
        schema=Schema(type=OpenAPIType.STRING, enum=["candidate", "baseline"]),
    )
    operation = Operation(
        summary="Chat completion (Mistral wire format), streaming or not",
        description=(
            "`model` is an agent alias (the request joins the agent's experiment) or a model id the gateway "
            "serves. The body is the Mistral chat request; unknown fields pass through to the upstream. "
            "With `stream: true` the answer is server-sent events ending in `data: [DONE]`."
        ),
        operation_id="ChatCompletions",
        parameters=[header, force],
        request_body=RequestBody(content={"application/json": OpenAPIMediaType(schema=json_object)}, required=True),
        responses={
            "200": OpenAPIResponse(
                description="The upstream's answer, unchanged; x-genesis-* headers name agent, variant and model.",
                content={
                    "application/json": OpenAPIMediaType(schema=json_object),
                    "text/event-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                },
            ),
            "4XX": OpenAPIResponse(description="Bad body, key, agent or size, in the Mistral error shape."),
            "5XX": OpenAPIResponse(description="The upstream failed (502/503/504), in the Mistral error shape."),
        },
    )
    paths = app.openapi_schema.paths
    if paths is not None:
        for path in ("/v1/chat/completions", "/chat/completions"):
            paths[path] = PathItem(post=operation)
