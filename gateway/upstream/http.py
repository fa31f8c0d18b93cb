"""Upstreams reached over HTTP with the gateway's own HTTP/1.1 client: Mistral and OpenAI-compatible.

The client (``h1``: one connection on httptools; ``pool``: reuse, cap, TLS) is the gateway's own
because it sits on every request and aiohttp's ``ClientSession._request`` was a quarter of the
gateway's CPU per request in py-spy. ``python -m benchmarks.client_speed`` (sequential requests to
nginx on loopback, uvloop, CPU of the client's process) measured ~19 µs per JSON request and ~27
per SSE one with ``H1Pool``, against ~102 and ~117 with aiohttp; a bare socket write and read with
no HTTP at all costs ~11 of those 19. The whole gateway (one uvicorn worker, wrk at 16 connections,
JSON via nginx) went from ~210-220 to ~145-150 µs of CPU per request. httpx was never in the
running: a bare passthrough did ~740 req/s with it against ~4,800 with aiohttp (docs/performance.md).

This module is the only one that sees the client's exceptions; ``_translated`` maps them to
``gateway.errors`` (plain ``try``/``except`` on the path: a context manager per call cost ~3 µs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import msgspec

from gateway.errors import (
    GatewayError,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.settings import UpstreamConfig, UpstreamKind
from gateway.upstream.base import Payload, UpstreamReply
from gateway.upstream.h1 import (
    Answer,
    Closed,
    ConnectFailed,
    ConnectTimeout,
    H1Error,
    PoolClosed,
    ReadTimeout,
)
from gateway.upstream.pool import H1Pool, Origin, Proxy
from gateway.upstream.translate import to_mistral, to_openai

_RETRY_STATUSES = frozenset({502, 503, 504})
_PASSED_HEADERS = ("retry-after", "retry-after-ms")
_PATH = "/v1/chat/completions"


class HttpUpstream:
    """A Mistral-API or OpenAI-compatible server."""

    def __init__(self, name: str, config: UpstreamConfig, api_key: str | None, *, proxy: Proxy | None = None):
        """``proxy``: the egress proxy to tunnel through, as ``build_upstreams`` resolved it (config or environment)."""
        self.name = name
        self.kind = config.kind
        self._config = config
        self._origin = Origin.parse(config.base_url or "")
        self._translate: Callable[[Payload], Payload] = to_mistral if config.kind is UpstreamKind.MISTRAL else to_openai
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._head = self._origin.head("POST", _PATH, {**headers, "accept": "application/json"})
        self._stream_head = self._origin.head("POST", _PATH, {**headers, "accept": "text/event-stream"})
        self._proxy = proxy
        self._pool: H1Pool | None = None

    @property
    def proxy(self) -> Proxy | None:
        """The proxy this upstream's connections tunnel through; ``None``: direct."""
        return self._proxy

    async def start(self) -> None:
        self._pool = H1Pool(
            self._origin,
            max_connections=self._config.max_connections,
            connect_timeout_s=self._config.connect_timeout_s,
            read_timeout_s=self._config.timeout_s,
            proxy=self._proxy,
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def ready(self) -> bool:
        return self._pool is not None and not self._pool.closed

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        answer = await self._answered(self._body(payload), request_id, stream=False)
        try:
            data = await answer.read()
        except H1Error as exc:
            raise self._translated(exc) from exc
        finally:
            answer.release()
        return UpstreamReply(data, answer.headers.get("content-type", "application/json"))

    def stream(self, payload: Payload, *, request_id: str) -> _StreamContext:
        body = self._body(payload)
        return _StreamContext(lambda: self._answered(body, request_id, stream=True), self.name)

    def _body(self, payload: Payload) -> bytes:
        """The request body in this upstream's dialect."""
        return msgspec.json.encode(self._translate(payload))

    async def _answered(self, body: bytes, request_id: str, *, stream: bool) -> Answer:
        """A 200 answer whose body is still to read, after this upstream's retries; else the error."""
        pool = self._require_pool()
        head = self._stream_head if stream else self._head
        retries = self._config.retries
        for attempt in range(retries + 1):
            retryable = attempt < retries
            try:
                answer = await pool.request(head, body, request_id=request_id)
                if answer.status == 200:
                    return answer
                try:
                    data = await answer.read()
                finally:
                    answer.release()
                self._raise_for_status(answer.status, answer.headers, data, retryable=retryable)
            except _Retry:
                pass
            except ConnectFailed as exc:
                if not retryable:
                    raise self._translated(exc) from exc
            except H1Error as exc:
                raise self._translated(exc) from exc
            await asyncio.sleep(_backoff(attempt))
        raise UpstreamError(f"upstream {self.name} failed", reason="exhausted", upstream=self.name)

    def _require_pool(self) -> H1Pool:
        if self._pool is None:
            raise UpstreamUnavailable(f"upstream {self.name} is not open", reason="not_started", upstream=self.name)
        return self._pool

    def _raise_for_status(self, status: int, headers: Mapping[str, str], data: bytes, *, retryable: bool) -> None:
        if status in _RETRY_STATUSES and retryable:
            raise _Retry
        if status in (401, 403):
            raise UpstreamError(
                f"upstream {self.name} rejected the gateway's credentials ({status}); check its api_key_env",
                reason="auth",
                upstream=self.name,
            )
        if 400 <= status < 500:
            passed = {k: headers[k] for k in _PASSED_HEADERS if k in headers}
            raise UpstreamRejected(status, data, headers.get("content-type", "application/json"), headers=passed)
        error = UpstreamUnavailable if status == 503 else UpstreamError
        raise error(f"upstream {self.name} answered {status}", reason=f"status_{status}", upstream=self.name)

    def _translated(self, exc: H1Error) -> GatewayError:
        """The gateway's error for one of the client's (only this module sees the client's errors)."""
        if isinstance(exc, ConnectTimeout | ReadTimeout):
            return UpstreamTimeout(f"upstream {self.name} timed out", reason="timeout", upstream=self.name)
        if isinstance(exc, PoolClosed):
            return UpstreamUnavailable(f"upstream {self.name} is closing", reason="not_started", upstream=self.name)
        if isinstance(exc, ConnectFailed) or (isinstance(exc, Closed) and not exc.answered):
            return self._unavailable(exc)
        return self._broken(exc)  # an answer that broke off or was not HTTP: garbled, not refused

    def _unavailable(self, exc: H1Error) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"upstream {self.name} is unreachable: {type(exc).__name__}", reason="connect", upstream=self.name
        )

    def _broken(self, exc: H1Error) -> UpstreamError:
        return UpstreamError(
            f"upstream {self.name} failed: {type(exc).__name__}", reason="protocol", upstream=self.name
        )


def _backoff(attempt: int) -> float:
    """Seconds before retry ``attempt + 1``: 50 ms, then doubling; a failing server gets a breath."""
    return 0.05 * (1 << attempt)


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try."""


class _StreamContext:
    """``HttpUpstream.stream``: entering sends the request and waits for a 200; leaving releases the
    connection to the pool if the answer was read to its end, else closes it (a stream left early —
    client gone, error — must stop the server generating).

    A class rather than an ``asynccontextmanager`` generator, and ``_Pieces`` rather than an async
    generator: every stream enters one and reads the other, and the generators' machinery (the
    context manager's wrapper, the loop's registry of async generators) cost ~2 µs a stream (timeit).
    """

    __slots__ = ("_answered", "_stream", "_upstream")

    def __init__(self, answered: Callable[[], Awaitable[Answer]], upstream: str):
        """``answered``: sends the request, returns the 200 answer (``HttpUpstream._answered``, bound)."""
        self._answered = answered
        self._upstream = upstream
        self._stream: _HttpStream | None = None

    async def __aenter__(self) -> _HttpStream:
        self._stream = _HttpStream(await self._answered(), self._upstream)
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        stream = self._stream
        if stream is not None:
            stream.leave()


class _HttpStream:
    """The body of a 200 streaming answer."""

    __slots__ = ("_answer", "_upstream", "finished")

    def __init__(self, answer: Answer, upstream: str):
        self._answer = answer
        self._upstream = upstream
        self.finished = False

    def chunks(self, heartbeat_s: float | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives; with ``heartbeat_s``, ``b""`` after each silence of that long."""
        return _Pieces(self, heartbeat_s)

    async def next_piece(self, heartbeat_s: float | None) -> bytes | None:
        """The next piece, ``None`` at the end (then ``finished``); a broken answer is an ``UpstreamError``."""
        try:
            piece = await self._answer.next_piece(heartbeat_s)
        except H1Error as exc:
            raise UpstreamError(
                f"upstream {self._upstream} broke off the stream: {type(exc).__name__}",
                reason="mid_stream",
                upstream=self._upstream,
            ) from exc
        if piece is None:
            self.finished = True
        return piece

    def leave(self) -> None:
        """Back to the pool when read to its end; closed otherwise."""
        if self.finished:
            self._answer.release()
        else:
            self._answer.close()


class _Pieces:
    """``_HttpStream.chunks`` as an async iterator."""

    __slots__ = ("_heartbeat_s", "_stream")

    def __init__(self, stream: _HttpStream, heartbeat_s: float | None):
        self._stream = stream
        self._heartbeat_s = heartbeat_s

    def __aiter__(self) -> _Pieces:
        return self

    async def __anext__(self) -> bytes:
        piece = await self._stream.next_piece(self._heartbeat_s)
        if piece is None:
            raise StopAsyncIteration
        return piece
