"""The yardstick: a Litestar app that forwards chat requests with the gateway's HTTP client and nothing else.

No parsing, no routing, no auth, no metrics, no logs: the body goes to the upstream as it came, and
the answer comes back (streamed chunk by chunk when the client accepts ``text/event-stream``). Same
framework, same client (the gateway's own ``H1Pool``), same server settings as the gateway, so the
gap between the two is what the gateway's features cost. aiohttp and httpx stay as the client
comparison (``PASSTHROUGH_CLIENT``).

    PASSTHROUGH_UPSTREAM=http://127.0.0.1:8081 python -m benchmarks.passthrough --port 8090
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import aiohttp
import httpx
import uvicorn
from litestar import Litestar, Request, Response, post
from litestar.datastructures import State
from litestar.handlers import asgi
from litestar.response import Stream
from litestar.types import Receive, Scope, Send

from gateway.runtime import tune_gc
from gateway.upstream.h1 import Answer, RequestHead
from gateway.upstream.pool import H1Pool, Origin


def _session(app: Any) -> aiohttp.ClientSession:
    session: aiohttp.ClientSession = app.state.session
    return session


@post("/v1/chat/completions", status_code=200)
async def chat(request: Request[Any, Any, Any]) -> Response[bytes] | Stream:
    """Forward the body; relay the answer."""
    session = _session(request.app)
    url: str = request.app.state.url
    accept = request.headers.get("accept", "application/json")
    headers = {"content-type": "application/json", "accept": accept, "authorization": "Bearer bench"}
    body = await request.body()
    if "event-stream" not in accept:
        async with session.post(url, data=body, headers=headers) as resp:
            data = await resp.read()
            return Response(data, status_code=resp.status, media_type=resp.headers.get("content-type"))
    resp = await session.post(url, data=body, headers=headers)

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.content.iter_any():
                yield chunk
        finally:
            resp.release()

    return Stream(relay(), status_code=resp.status, media_type="text/event-stream")


@post("/v1/chat/completions", status_code=200, name="chat_httpx")
async def chat_httpx(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The same forwarding with httpx's pooled client (non-streaming only): the client comparison."""
    client: httpx.AsyncClient = request.app.state.httpx
    headers = {"content-type": "application/json", "accept": "application/json", "authorization": "Bearer bench"}
    resp = await client.post(request.app.state.url, content=await request.body(), headers=headers)
    return Response(resp.content, status_code=resp.status_code, media_type=resp.headers.get("content-type"))


@asynccontextmanager
async def _httpx_lifespan(app: Litestar) -> AsyncIterator[None]:
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=2000)
    app.state.httpx = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(300.0, connect=5.0))
    try:
        yield
    finally:
        await app.state.httpx.aclose()


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    connector = aiohttp.TCPConnector(limit=int(os.environ.get("PASSTHROUGH_MAX_CONNECTIONS", "2000")))
    # The gateway's own session settings (gateway/upstream/http.py), so only the features differ.
    timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=300.0)
    app.state.session = aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=True, skip_auto_headers=("User-Agent",)
    )
    try:
        yield
    finally:
        await app.state.session.close()


async def _body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += cast(bytes, message.get("body", b""))
        if not message.get("more_body"):
            return body


@asgi("/v1/chat/completions", copy_scope=False)
async def raw_chat(scope: Scope, receive: Receive, send: Send) -> None:
    """The same forwarding as a plain ASGI handler, the way the gateway's chat route is written."""
    app = scope["litestar_app"]
    session = _session(app)
    accept = next((v.decode() for k, v in scope["headers"] if k == b"accept"), "application/json")
    headers = {"content-type": "application/json", "accept": accept, "authorization": "Bearer bench"}
    body = await _body(receive)
    if "event-stream" not in accept:
        async with session.post(app.state.url, data=body, headers=headers) as resp:
            data = await resp.read()
        start = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": resp.status, "headers": start})
        await send({"type": "http.response.body", "body": data, "more_body": False})
        return
    async with session.post(app.state.url, data=body, headers=headers) as resp:
        start = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": resp.status, "headers": start})
        async for chunk in resp.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Forwarder:
    """The gateway's client set up as the gateway sets it up: one pool, two heads encoded once."""

    def __init__(self, url: str) -> None:
        origin = Origin.parse(url.removesuffix("/v1/chat/completions"))
        self.pool = H1Pool(
            origin,
            max_connections=int(os.environ.get("PASSTHROUGH_MAX_CONNECTIONS", "2000")),
            connect_timeout_s=5.0,  # the gateway's defaults (UpstreamConfig)
            read_timeout_s=300.0,
        )
        fixed = {"content-type": "application/json", "authorization": "Bearer bench"}
        self.json = origin.head("POST", "/v1/chat/completions", {**fixed, "accept": "application/json"})
        self.sse = origin.head("POST", "/v1/chat/completions", {**fixed, "accept": "text/event-stream"})

    async def send(self, body: bytes, *, stream: bool) -> Answer:
        head: RequestHead = self.sse if stream else self.json
        return await self.pool.request(head, body)


def _forwarder(app: Any) -> _Forwarder:
    forwarder: _Forwarder = app.state.forwarder
    return forwarder


@asynccontextmanager
async def _gateway_lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.forwarder = _Forwarder(app.state.url)
    try:
        yield
    finally:
        await app.state.forwarder.pool.close()


async def _whole(answer: Answer) -> bytes:
    try:
        return await answer.read()
    finally:
        answer.release()


async def _relay(answer: Answer) -> AsyncIterator[bytes]:
    try:
        async for piece in answer.pieces():
            yield piece
    finally:
        answer.release()  # read to its end: back to the pool; left early: closed


@post("/v1/chat/completions", status_code=200, name="chat_gateway")
async def chat_gateway(request: Request[Any, Any, Any]) -> Response[bytes] | Stream:
    """Forward the body with the gateway's own client; relay the answer."""
    forwarder = _forwarder(request.app)
    stream = "event-stream" in request.headers.get("accept", "")
    answer = await forwarder.send(await request.body(), stream=stream)
    if not stream:
        data = await _whole(answer)
        return Response(data, status_code=answer.status, media_type=answer.headers.get("content-type"))
    return Stream(_relay(answer), status_code=answer.status, media_type="text/event-stream")


@asgi("/v1/chat/completions", copy_scope=False, name="raw_chat_gateway")
async def raw_chat_gateway(scope: Scope, receive: Receive, send: Send) -> None:
    """The gateway-client forwarding as a plain ASGI handler, the way the gateway's chat route is written."""
    forwarder = _forwarder(scope["litestar_app"])
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    stream = b"event-stream" in accept
    body = await _body(receive)
    answer = await forwarder.send(body, stream=stream)
    if not stream:
        data = await _whole(answer)
        start = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": start})
        await send({"type": "http.response.body", "body": data, "more_body": False})
        return
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": [(b"content-type", b"text/event-stream")]}
    )
    try:
        async for piece in answer.pieces():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
    finally:
        answer.release()  # read to its end: back to the pool; left early (client gone): closed
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def create_app() -> Litestar:
    """The passthrough app; the upstream's root URL comes from ``PASSTHROUGH_UPSTREAM``.

    ``PASSTHROUGH_RAW_ASGI=1`` serves the plain ASGI handler instead of the Litestar one;
    ``PASSTHROUGH_CLIENT`` picks the client: ``gateway`` (the default, the gateway's own),
    ``aiohttp`` or ``httpx`` (non-streaming only), the client comparison;
    ``PASSTHROUGH_TUNE_GC=1`` tunes the garbage collector as ``genesis-gateway serve`` does, to show
    what that alone is worth to the yardstick.
    """
    url = os.environ.get("PASSTHROUGH_UPSTREAM", "http://127.0.0.1:8081").rstrip("/") + "/v1/chat/completions"
    raw = os.environ.get("PASSTHROUGH_RAW_ASGI") == "1"
    client = os.environ.get("PASSTHROUGH_CLIENT") or "gateway"
    if client == "gateway":
        handler, lifespan = (raw_chat_gateway if raw else chat_gateway), _gateway_lifespan
    elif client == "aiohttp":
        handler, lifespan = (raw_chat if raw else chat), _lifespan
    elif client == "httpx":
        handler, lifespan = chat_httpx, _httpx_lifespan
    else:
        raise ValueError(f"PASSTHROUGH_CLIENT must be gateway, aiohttp or httpx, not {client!r}")
    on_startup = [tune_gc] if os.environ.get("PASSTHROUGH_TUNE_GC") == "1" else []
    return Litestar(
        route_handlers=[handler],
        lifespan=[lifespan],
        on_startup=on_startup,
        state=State({"url": url}),
        debug=False,
        logging_config=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "benchmarks.passthrough:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as gateway/cli/serve.py
        server_header=False,
    )


if __name__ == "__main__":
    main()
