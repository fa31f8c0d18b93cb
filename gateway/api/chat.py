"""``POST /v1/chat/completions``: the Mistral (and OpenAI) chat endpoint, as a plain ASGI handler.

Every agent request passes here, so this one route skips Litestar's handler machinery (signature
model, response objects, the task group of ``Stream``): it reads the body from ``receive`` and
writes the answer with two or three ``send`` calls. Measured with ``benchmarks/`` that saves ~60 µs
of CPU per request, about a quarter of a bare Litestar passthrough (docs/performance.md). Errors
still go through the app's exception handlers, so they keep the Mistral shape.

``ChatFastPath``, the ASGI app the gateway serves, also skips Litestar's way *to* the route for
the requests that matter: a POST to exactly one of ``CHAT_PATHS`` goes straight to the route's
steps (``answer_chat``, ``send_answer``); everything else (other paths and methods, a trailing
slash, the lifespan) goes to the Litestar app, which has the route too. Litestar's app call,
exception middleware (a wrapper around every ``send``) and router cost ~9.5 µs of the ~33 µs a
request takes in-process (the app called as ASGI with a fixed answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from litestar import Litestar, Request
from litestar.enums import ParamType, ScopeType
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
from gateway.state import GatewayState, app_state

_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
_END: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}


CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")


@asgi(list(CHAT_PATHS), copy_scope=False)
async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
    """Forward one chat request to the model its agent's experiment assigns."""
    if cast(HTTPScope, scope)["method"] != "POST":
        raise MethodNotAllowedException(headers={"Allow": "POST"})
    await send_answer(await answer_chat(app_state(scope["litestar_app"]), scope, receive), send, receive)


class ChatFastPath:
    """The gateway's ASGI app: chat POSTs straight to the chat route's steps, every other call to ``app``.

    An error raised before the answer is sent (everything ``answer_chat`` refuses) is answered by
    ``app``'s exception handlers, as Litestar's exception middleware would answer it: the same
    Mistral-shaped body and headers. Sending never raises one (a stream's failures end the stream).
    """

    def __init__(self, app: Litestar):
        self.app = app
        self._state = app_state(app)
        self._paths = frozenset(CHAT_PATHS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        try:
            answer = await answer_chat(self._state, scope, receive)
        except Exception as exc:
            await self._answer_error(scope, receive, send, exc)
            return
        await send_answer(answer, send, receive)

    async def _answer_error(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        scope["litestar_app"] = self.app
        # The handler of the nearest class in the exception's MRO, as Litestar picks it (the gateway maps
        # no status codes to handlers); the app maps Exception itself, so there always is one.
        handlers = self.app.exception_handlers
        handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
        if handler is None:
            raise exc
        request: Request[Any, Any, Any] = self.app.request_class(scope=scope, receive=receive, send=send)
        response = handler(request, exc)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)


async def answer_chat(state: GatewayState, scope: Scope, receive: Receive) -> Complete | Streaming:
    """Read one chat request (a POST) and get its answer from ``state``'s proxy; ``GatewayError`` if refused."""
    headers = {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in READ_HEADERS}
    try:
        body = await _read_body(receive, state.config.max_body_bytes)
    except PayloadTooLarge as err:
        raise state.proxy.refused(headers, err) from None
    return await state.proxy.handle(headers, body)


async def send_answer(answer: Complete | Streaming, send: Send, receive: Receive) -> None:
    """Send a whole answer or relay a stream, then record the exchange."""
    if isinstance(answer, Complete):
        try:
            await _send_complete(send, answer)
        finally:
            answer.sent()
    else:
        await _send_stream(send, receive, answer)


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
        for path in CHAT_PATHS:
            paths[path] = PathItem(post=operation)
