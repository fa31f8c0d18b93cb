"""Upstreams reached over HTTP with one pooled aiohttp session each: Mistral and OpenAI-compatible.

aiohttp, not httpx, because the pool decides the gateway's throughput: measured on these machines
a bare passthrough does ~4,800 req/s with aiohttp and ~740 with httpx (docs/performance.md).
This module is the only one that sees aiohttp's exceptions; ``_translate_errors`` maps them to
``gateway.errors``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import aiohttp
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
from gateway.upstream.translate import to_mistral, to_openai

_RETRY_STATUSES = frozenset({502, 503, 504})
_PASSED_HEADERS = ("retry-after", "retry-after-ms")


class HttpUpstream:
    """A Mistral-API or OpenAI-compatible server."""

    def __init__(self, name: str, config: UpstreamConfig, api_key: str | None):
        self.name = name
        self.kind = config.kind
        self._config = config
        self._url = f"{(config.base_url or '').rstrip('/')}/v1/chat/completions"
        self._translate: Callable[[Payload], Payload] = to_mistral if config.kind is UpstreamKind.MISTRAL else to_openai
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._config.max_connections, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self._config.connect_timeout_s, sock_read=self._config.timeout_s
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=True, skip_auto_headers=("User-Agent",)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def ready(self) -> bool:
        return self._session is not None and not self._session.closed

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        body = msgspec.json.encode(self._translate(payload))
        for attempt in range(self._config.retries + 1):
            last = attempt == self._config.retries
            with self._translate_errors(retry=not last) as retry:
                async with self._post(body, request_id) as resp:
                    data = await resp.read()
                    if resp.status == 200:
                        return UpstreamReply(data, resp.headers.get("content-type", "application/json"))
                    self._raise_for_status(resp, data, retryable=not last)
            if retry.wanted:
                await asyncio.sleep(_backoff(attempt))
                continue
        raise UpstreamError(f"upstream {self.name} failed", reason="exhausted", upstream=self.name)

    @asynccontextmanager
    async def stream(self, payload: Payload, *, request_id: str) -> AsyncIterator[_HttpStream]:
        body = msgspec.json.encode(self._translate(payload))
        resp = await self._open_stream(body, request_id)
        handle = _HttpStream(resp, self.name)
        try:
            yield handle
        finally:
            # A stream we leave early (client gone, error) must drop its connection so the server
            # stops generating; a finished one goes back to the pool.
            if handle.finished:
                resp.release()
            else:
                resp.close()

    async def _open_stream(self, body: bytes, request_id: str) -> aiohttp.ClientResponse:
        session = self._require_session()
        headers = {**self._headers, "accept": "text/event-stream", "x-request-id": request_id}
        for attempt in range(self._config.retries + 1):
            last = attempt == self._config.retries
            with self._translate_errors(retry=not last) as retry:
                resp = await session.post(self._url, data=body, headers=headers)
                if resp.status == 200:
                    return resp
                try:
                    data = await resp.read()
                finally:
                    resp.release()
                self._raise_for_status(resp, data, retryable=not last)
            if retry.wanted:
                await asyncio.sleep(_backoff(attempt))
                continue
        raise UpstreamError(f"upstream {self.name} failed", reason="exhausted", upstream=self.name)

    def _post(self, body: bytes, request_id: str) -> aiohttp.client._RequestContextManager:
        headers = {**self._headers, "x-request-id": request_id}
        return self._require_session().post(self._url, data=body, headers=headers)

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise UpstreamUnavailable(f"upstream {self.name} is not open", reason="not_started", upstream=self.name)
        return self._session

    def _raise_for_status(self, resp: aiohttp.ClientResponse, data: bytes, *, retryable: bool) -> None:
        status = resp.status
        if status in _RETRY_STATUSES and retryable:
            raise _Retry
        if status in (401, 403):
            raise UpstreamError(
                f"upstream {self.name} rejected the gateway's credentials ({status}); check its api_key_env",
                reason="auth",
                upstream=self.name,
            )
        if 400 <= status < 500:
            passed = {k: resp.headers[k] for k in _PASSED_HEADERS if k in resp.headers}
            raise UpstreamRejected(status, data, resp.headers.get("content-type", "application/json"), headers=passed)
        error = UpstreamUnavailable if status == 503 else UpstreamError
        raise error(f"upstream {self.name} answered {status}", reason=f"status_{status}", upstream=self.name)

    @contextmanager
    def _translate_errors(self, *, retry: bool) -> Iterator[_RetrySignal]:
        signal = _RetrySignal()
        try:
            yield signal
        except _Retry:
            signal.wanted = True
        except GatewayError:
            raise
        except (aiohttp.ClientConnectionError, OSError) as exc:
            if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
                raise UpstreamTimeout(f"upstream {self.name} timed out", reason="timeout", upstream=self.name) from exc
            if retry and isinstance(exc, aiohttp.ClientConnectorError):
                signal.wanted = True
                return
            raise UpstreamUnavailable(
                f"upstream {self.name} is unreachable: {type(exc).__name__}",
                reason="connect",
                upstream=self.name,
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"upstream {self.name} failed: {type(exc).__name__}", reason="protocol", upstream=self.name
            ) from exc


def _backoff(attempt: int) -> float:
    """Seconds before retry ``attempt + 1``: 50 ms, then doubling; a failing server gets a breath."""
    return 0.05 * (1 << attempt)


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try."""


class _RetrySignal:
    __slots__ = ("wanted",)

    def __init__(self) -> None:
        self.wanted = False


class _HttpStream:
    """The body of a 200 streaming answer."""

    def __init__(self, resp: aiohttp.ClientResponse, upstream: str):
        self._resp = resp
        self._upstream = upstream
        self.finished = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise UpstreamError(
                f"upstream {self._upstream} broke off the stream: {type(exc).__name__}",
                reason="mid_stream",
                upstream=self._upstream,
            ) from exc
        self.finished = True
