"""The gateway's app in-process: called as ASGI in a loop, its upstream answering from memory.

No server, no sockets, no load generator: the CPU time of the gateway's own steps per request
(``time.process_time``), the best of ``--runs`` runs (as timeit advises: the host's noise only ever
adds), which resolves a µs where a wrk A/B needs rounds to resolve a few. The upstream answers
with nginx's fixed bodies (``benchmarks/upstream.py``): the JSON completion, or the 48-event
stream in one piece. The app is the one ``serve`` runs (the chat fast path, the JSON log line, the
garbage collector tuned), with the benchmark's config and sampling off; its lifespan does not run,
so nothing runs beside the requests. Under load in a server the same steps cost two to three times
more (docs/performance.md).

    python -m benchmarks.inproc [--stream] [--requests 50000] [--runs 5]
    (cd /tmp/before && python -m benchmarks.inproc)       # a checkout of another commit, to compare
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from litestar.types import Message

from benchmarks.targets import AGENT_KEY, FIXED_AGENT, gateway_config
from benchmarks.upstream import COMPLETION, request_body, sse_stream
from gateway.api.chat import ChatFastPath
from gateway.app import build_state, create_app
from gateway.logging import configure_logging
from gateway.runtime import tune_gc
from gateway.settings import Settings, UpstreamKind, load_config
from gateway.upstream.base import Payload, UpstreamReply

_ENV = {"MISTRAL_API_KEY": "bench-upstream-key", "BENCH_AGENT_KEY": AGENT_KEY}
_HEADERS = [
    (b"authorization", f"Bearer {AGENT_KEY}".encode()),
    (b"x-genesis-user", b"user-48213"),
    (b"content-type", b"application/json"),
]


class FixedUpstream:
    """An upstream answering every request from memory: nginx's completion, or its stream in one piece."""

    kind = UpstreamKind.MISTRAL
    ready = True

    def __init__(self, name: str):
        self.name = name
        self.body = msgspec.json.encode(COMPLETION)
        self.events = sse_stream().encode()

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        return UpstreamReply(self.body)

    def stream(self, payload: Payload, *, request_id: str) -> _OneShot:
        return _OneShot(self.events)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _OneShot:
    """A stream context whose body is one piece (a class, so the harness adds no generator machinery)."""

    def __init__(self, events: bytes):
        self._events = events

    async def __aenter__(self) -> _OneShot:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def chunks(self, heartbeat_s: float | None = None) -> _Pieces:
        return _Pieces(self._events)


class _Pieces:
    def __init__(self, events: bytes):
        self._left = [events]

    def __aiter__(self) -> _Pieces:
        return self

    async def __anext__(self) -> bytes:
        if not self._left:
            raise StopAsyncIteration
        return self._left.pop()


def build(workdir: Path) -> ChatFastPath:
    """The app ``serve`` would run with the benchmark's config, every upstream a ``FixedUpstream``."""
    path = gateway_config(workdir, "inproc", nginx_port=1, paced_port=2, sample_rate=0.0, slow_model="pace-5x4")
    config = load_config(path, env=_ENV)
    upstreams: dict[str, Any] = {name: FixedUpstream(name) for name in config.upstreams}
    return create_app(build_state(Settings(), config, upstreams=upstreams, env=_ENV))


async def serve(app: ChatFastPath, *, stream: bool, requests: int) -> bytes:
    """Send ``requests`` chat requests to ``app``; the last answer's body. Any status but 200 raises."""
    body = request_body(FIXED_AGENT, stream=stream).encode()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "root_path": "",
        "query_string": b"",
        "headers": _HEADERS,
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    loop = asyncio.get_running_loop()
    sent: list[bytes] = []
    for _ in range(requests):
        sent.clear()
        request = [{"type": "http.request", "body": body, "more_body": False}]
        never: asyncio.Future[None] = loop.create_future()  # the client stays: the watcher waits until cancelled

        async def receive(request: list[dict[str, Any]] = request, never: asyncio.Future[None] = never) -> Any:
            if request:
                return request.pop()
            await never

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"the gateway answered {message['status']}")
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await app(dict(scope), receive, send)  # type: ignore[arg-type]
    return b"".join(sent)


def measure(*, stream: bool, requests: int, warm_up: int = 2_000) -> float:
    """CPU µs per request of the gateway's app, after ``warm_up`` requests."""
    with tempfile.TemporaryDirectory(prefix="genesis-inproc-") as workdir:
        app = build(Path(workdir))

        async def run() -> float:
            await serve(app, stream=stream, requests=warm_up)
            started = time.process_time()
            await serve(app, stream=stream, requests=requests)
            return (time.process_time() - started) / requests * 1e6

        return uvloop.run(run())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stream", action="store_true", help="streamed answers (SSE) instead of JSON")
    p.add_argument("--requests", type=int, default=50_000, help="requests per run")
    p.add_argument("--runs", type=int, default=5, help="runs, each with a fresh app; the best is reported")
    a = p.parse_args(argv)
    # The per-request log line is part of the cost: written, as in production, but to nowhere (the
    # logger takes standard error's buffer when configured; errors still reach the real one).
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        configure_logging("json", "info")
    finally:
        sys.stderr = stderr
    tune_gc()
    runs = [measure(stream=a.stream, requests=a.requests) for _ in range(a.runs)]
    each = ", ".join(f"{us:.1f}" for us in runs)
    answer = "SSE" if a.stream else "JSON"
    print(f"{answer}: {min(runs):.1f} µs of CPU per request in-process (best of {a.runs} runs: {each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
