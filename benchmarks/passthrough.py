"""The yardstick: a Litestar app that forwards chat requests with the gateway's HTTP client and nothing else.

No parsing, no routing, no auth, no metrics, no logs: the body goes to the upstream as it came, and
the answer comes back (streamed chunk by chunk when the client accepts ``text/event-stream``). Same
framework, same client (one pooled aiohttp session), same server settings as the gateway, so the
gap between the two is what the gateway's features cost.

    PASSTHROUGH_UPSTREAM=http://127.0.0.1:8081 python -m benchmarks.passthrough --port 8090
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import uvicorn
from litestar import Litestar, Request, Response, post
from litestar.datastructures import State
from litestar.response import Stream


def _session(app: Litestar) -> aiohttp.ClientSession:
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


def create_app() -> Litestar:
    """The passthrough app; the upstream's root URL comes from ``PASSTHROUGH_UPSTREAM``."""
    url = os.environ.get("PASSTHROUGH_UPSTREAM", "http://127.0.0.1:8081").rstrip("/") + "/v1/chat/completions"
    return Litestar(
        route_handlers=[chat], lifespan=[_lifespan], state=State({"url": url}), debug=False, logging_config=None
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
    )


if __name__ == "__main__":
    main()
