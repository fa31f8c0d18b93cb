"""The request path of ``POST /v1/chat/completions``: authenticate, route, assign, forward, record.

Everything here works from memory built at start — the route table, the hashed keys, the local
copy of the flags — so no network hop or config parsing happens before the request is forwarded.
After the answer is sent, the exchange is recorded (metrics, one log event, a sample offer) without waiting.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import structlog

from gateway.auth import KeyRing
from gateway.errors import BadRequest, Forbidden, GatewayError, UpstreamError
from gateway.exchange import Exchange, Observer
from gateway.flags.counts import AssignmentCounter, MemoryAssignmentCounter
from gateway.flags.model import AgentFlags
from gateway.flags.store import FlagStore
from gateway.metrics import TrafficMetrics
from gateway.metrics.tally import TalliedCounter
from gateway.routing.table import AgentTarget, Endpoint, RouteTable
from gateway.settings import Variant
from gateway.upstream.base import Payload, StreamHandle, UpstreamReply
from gateway.wire import DONE_EVENT, KEEPALIVE_EVENT, ChatCall, SseScanner, error_chunk, parse_chat, read_completion

_log = structlog.get_logger("gateway.proxy")
UNIT_HEADER = "x-genesis-user"
FORCE_HEADER = "x-genesis-variant"
READ_HEADERS = frozenset(h.encode() for h in ("authorization", "x-request-id", UNIT_HEADER, FORCE_HEADER))
"""The request headers the proxy reads (lower-case, as ASGI gives them): the only ones decoded.
SDKs send a dozen more (user agent, retries, platform), none of them the gateway's business."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_VARIANTS: dict[str, Variant] = {"candidate": "candidate", "baseline": "baseline"}


@dataclass(slots=True)
class Complete:
    """A whole answer to send."""

    body: bytes
    content_type: str
    headers: dict[str, str]
    sent: Callable[[], None]
    """Records the exchange (metrics, log line, sample): call once the answer is written, or failed
    to be, so that the answer leaves before the gateway's bookkeeping."""


@dataclass(slots=True)
class Streaming:
    """An answer to relay as it arrives."""

    events: AsyncIterator[bytes]
    headers: dict[str, str]
    abandon: Callable[[], Awaitable[None]]
    """Releases the upstream stream and records the exchange if ``events`` never started (the client
    left before the first byte): closing a never-started generator would not run its ``finally``."""
    sent: Callable[[], None]
    """Records the exchange once the response has ended (after its last write), whichever way the
    relay ended; a second call, or one after ``abandon`` recorded it, does nothing."""


@dataclass(slots=True)
class _Lease:
    started: bool = False
    recorded: bool = False


class _OpenStream:
    """An upstream stream whose context is entered; ``close`` leaves it once, whoever calls it first.

    The context itself, not an ``AsyncExitStack`` around it: for one context the stack's entry and
    ``aclose`` cost ~1 µs a stream (timeit), on every stream's path to its first byte.
    """

    __slots__ = ("_context", "handle")

    def __init__(self, context: AbstractAsyncContextManager[StreamHandle], handle: StreamHandle):
        self._context: AbstractAsyncContextManager[StreamHandle] | None = context
        self.handle = handle

    async def close(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            await context.__aexit__(None, None, None)


class ChatProxy:
    """Forwards chat requests for agents and pass-through models."""

    def __init__(
        self,
        *,
        routes: RouteTable,
        flags: FlagStore,
        keys: KeyRing,
        observer: Observer,
        metrics: TrafficMetrics,
        chance: Callable[[], float] = random.random,
        counter: AssignmentCounter | None = None,
        keepalive_s: float = 0.0,
    ):
        self._routes = routes
        self._flags = flags
        self._keys = keys
        self._observer = observer
        self._metrics = metrics
        self._chance = chance
        self._heartbeat_s = keepalive_s or None
        self._counter = counter if counter is not None else MemoryAssignmentCounter()
        self._assignment_series: dict[tuple[str, str, str], TalliedCounter] = {}
        """Tallies of the assignment counter, made once (bounded: config agents x variants x reasons)."""

    async def handle(self, headers: Mapping[str, str], raw: bytes) -> Complete | Streaming:
        """Answer one request; a ``GatewayError`` leaves here already recorded, carrying its headers."""
        ex = _arrived(headers)
        try:
            return await self._handle(ex, headers, raw)
        except GatewayError as err:
            self._failed(ex, err)
            raise

    def refused(self, headers: Mapping[str, str], err: GatewayError) -> GatewayError:
        """Record a request refused before ``handle`` could read it (a body over the limit); return ``err`` to raise."""
        self._failed(_arrived(headers), err)
        return err

    def _failed(self, ex: Exchange, err: GatewayError) -> None:
        ex.status = err.status
        ex.error = getattr(err, "reason", None) or err.type
        err.headers.update(_response_headers(ex))
        self._finish(ex)

    async def _handle(self, ex: Exchange, headers: Mapping[str, str], raw: bytes) -> Complete | Streaming:
        caller = self._keys.authenticate(headers.get("authorization"))
        call = parse_chat(raw)
        ex.stream = call.stream
        target = self._routes.resolve(call.model)
        if isinstance(target, AgentTarget):
            self._keys.check(caller, target.agent)
            endpoint = self._assign(ex, target, call, headers)
        else:
            self._keys.check_passthrough(caller, target.endpoint.model)
            endpoint = target.endpoint
            ex.model = endpoint.model
        payload = call.body
        payload["model"] = endpoint.model
        fallback = _fallback_for(target, ex)
        if call.stream:
            return await self._open_stream(ex, endpoint, fallback, payload)
        return await self._complete(ex, endpoint, fallback, payload)

    def _assign(self, ex: Exchange, target: AgentTarget, call: ChatCall, headers: Mapping[str, str]) -> Endpoint:
        flags = self._flags.get(target.agent)
        if flags is None:  # the store lost an agent the config names: serve the baseline, safely
            _log.warning("agent has no flags; serving its baseline", agent=target.agent)
            flags = AgentFlags.from_config(target.agent, target.config.model_copy(update={"enabled": False}))
        forced = _forced_variant(headers, target)
        unit = headers.get(UNIT_HEADER) or call.user
        if unit is not None and len(unit) > 256:
            raise BadRequest(f"{UNIT_HEADER} is longer than 256 characters", code="invalid_unit")
        assignment = flags.splitter.assign(unit, forced)
        self._assigned(target.agent, assignment.variant, assignment.reason).inc()
        self._counter.count(target.agent, assignment.variant, assignment.reason, phase=flags.phase)
        ex.agent, ex.variant = target.agent, assignment.variant
        endpoint = target.endpoint(assignment.variant)
        ex.model = endpoint.model
        # Forced requests (benchmarks, QA) are not traffic of the experiment: scoring them would bias the A/B.
        # A sink with no room says no here (counted), before the request keeps text for a sample it would drop.
        if (
            assignment.reason != "forced"
            and flags.sample_rate > 0
            and self._chance() < flags.sample_rate
            and self._observer.admit_sample(target.agent)
        ):
            ex.sampled = True
            ex.messages = call.messages
        return endpoint

    async def _complete(
        self, ex: Exchange, endpoint: Endpoint, fallback: Endpoint | None, payload: Payload
    ) -> Complete:
        started = time.perf_counter()
        try:
            reply = await self._forward(endpoint, payload, ex)
        except UpstreamError:
            if fallback is None:
                raise
            self._use_fallback(ex, fallback, payload)
            reply = await self._forward(fallback, payload, ex)
            endpoint = fallback
        finally:
            ex.upstream_s = time.perf_counter() - started
        facts = read_completion(reply.body, want_text=ex.sampled)
        ex.input_tokens, ex.output_tokens = facts.input_tokens, facts.output_tokens
        ex.finish_reason, ex.answer = facts.finish_reason, facts.text
        ex.cost_usd = endpoint.cost(facts.input_tokens, facts.output_tokens)
        return Complete(reply.body, reply.content_type, _response_headers(ex), lambda: self._finish(ex))

    async def _open_stream(
        self, ex: Exchange, endpoint: Endpoint, fallback: Endpoint | None, payload: Payload
    ) -> Streaming:
        started = time.perf_counter()
        try:
            opened = await self._open(endpoint, payload, ex)
        except UpstreamError:
            if fallback is None:
                raise
            self._use_fallback(ex, fallback, payload)
            opened = await self._open(fallback, payload, ex)
            endpoint = fallback
        ex.upstream_s = time.perf_counter() - started
        lease = _Lease()

        def sent() -> None:
            if not lease.recorded:
                lease.recorded = True
                self._finish(ex)

        async def abandon() -> None:
            if lease.started:
                return
            lease.started = True
            ex.error, ex.status = "client_disconnected", 499
            await opened.close()
            sent()

        return Streaming(self._relay(ex, endpoint, opened, lease), _response_headers(ex), abandon, sent)

    async def _forward(self, endpoint: Endpoint, payload: Payload, ex: Exchange) -> UpstreamReply:
        """One non-streaming call; every upstream failure is counted, the fallback's included."""
        try:
            return await endpoint.upstream.complete(payload, request_id=ex.request_id)
        except UpstreamError as err:
            self._metrics.upstream_errors.labels(err.upstream, err.reason).inc()
            raise

    async def _open(self, endpoint: Endpoint, payload: Payload, ex: Exchange) -> _OpenStream:
        """Open one stream; every upstream failure is counted, the fallback's included."""
        context = endpoint.upstream.stream(payload, request_id=ex.request_id)
        try:
            return _OpenStream(context, await context.__aenter__())
        except UpstreamError as err:
            self._metrics.upstream_errors.labels(err.upstream, err.reason).inc()
            raise

    async def _relay(
        self, ex: Exchange, endpoint: Endpoint, opened: _OpenStream, lease: _Lease
    ) -> AsyncIterator[bytes]:
        lease.started = True
        scanner = SseScanner(want_text=ex.sampled)
        try:
            async for piece in _timed(opened.handle.chunks(self._heartbeat_s), ex):
                if not piece:  # the upstream has been silent for heartbeat_s; what was relayed ends an event
                    yield KEEPALIVE_EVENT
                    continue
                ready = scanner.cut(piece)
                if not ready:
                    continue
                relayed = time.perf_counter()
                try:
                    yield ready  # sent before it is read: the facts are not the client's to wait for
                finally:
                    scanner.scan(ready)
                if ex.ttft_s is None and scanner.saw_content:
                    ex.ttft_s = relayed - ex.started
            rest = scanner.flush()
            yield rest + DONE_EVENT if not scanner.done else rest
        except UpstreamError as err:
            self._metrics.upstream_errors.labels(err.upstream, err.reason).inc()
            ex.error, ex.status = err.reason, 502
            scanner.facts.finish_reason = "error"
            yield error_chunk(ex.model, "gw-" + ex.request_id)
        except (asyncio.CancelledError, GeneratorExit):
            ex.error, ex.status = "client_disconnected", 499
            raise
        except Exception:  # a gateway bug mid-stream: end the stream parseably, record it as ours (500)
            _log.exception("stream relay failed", request_id=ex.request_id, agent=ex.agent)
            ex.error, ex.status = "internal_error", 500
            scanner.facts.finish_reason = "error"
            yield error_chunk(ex.model, "gw-" + ex.request_id)
        finally:
            await opened.close()
            facts = scanner.facts
            ex.input_tokens, ex.output_tokens = facts.input_tokens, facts.output_tokens
            ex.finish_reason, ex.answer = facts.finish_reason, scanner.text()
            ex.cost_usd = endpoint.cost(facts.input_tokens, facts.output_tokens)
            # Recorded by ``Streaming.sent`` once the response's last write is done.

    def _assigned(self, agent: str, variant: str, reason: str) -> TalliedCounter:
        key = (agent, variant, reason)
        tally = self._assignment_series.get(key)
        if tally is None:
            child = self._metrics.assignments.labels(agent, variant, reason)
            tally = self._assignment_series[key] = self._metrics.tallies.counter(child)
        return tally

    def _use_fallback(self, ex: Exchange, fallback: Endpoint, payload: Payload) -> None:
        ex.fallback, ex.model = True, fallback.model
        payload["model"] = fallback.model
        self._metrics.fallbacks.labels(ex.agent).inc()

    def _finish(self, ex: Exchange) -> None:
        ex.duration_s = time.perf_counter() - ex.started
        self._observer.record(ex)


def _arrived(headers: Mapping[str, str]) -> Exchange:
    """The exchange of a request that has just arrived: its id and when."""
    return Exchange(request_id=request_id(headers), started=time.perf_counter(), received_at=time.time())


def request_id(headers: Mapping[str, str]) -> str:
    """The client's ``x-request-id`` when it is a safe token, else a fresh one."""
    given = headers.get("x-request-id")
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return _fresh_ids.next()


class _RandomIds:
    """128-bit random ids as hex, like ``uuid4().hex`` (ids are what feedback is attributed by, so they
    must not be guessable: ``os.urandom``), cut from 4 kB read at a time: one system call per 256
    ids instead of one per id. ~2 µs (uuid4) → ~0.5 (urandom(16)) → ~0.25 µs (timeit)."""

    __slots__ = ("_hex", "_pos")

    def __init__(self) -> None:
        self._hex = ""
        self._pos = 0

    def reset(self) -> None:
        self._hex, self._pos = "", 0

    def next(self) -> str:
        if self._pos >= len(self._hex):
            self._hex, self._pos = os.urandom(4096).hex(), 0
        start = self._pos
        self._pos = start + 32
        return self._hex[start : self._pos]


_fresh_ids = _RandomIds()
os.register_at_fork(after_in_child=_fresh_ids.reset)  # a forked worker must not hand out its parent's ids


async def _timed(chunks: AsyncIterator[bytes], ex: Exchange) -> AsyncIterator[bytes]:
    """``chunks``, adding the wait for each one to ``ex.upstream_s``: generation time is not gateway overhead."""
    while True:
        started = time.perf_counter()
        try:
            piece = await anext(chunks)
        except StopAsyncIteration:
            return
        finally:
            ex.upstream_s += time.perf_counter() - started
        yield piece


def _forced_variant(headers: Mapping[str, str], target: AgentTarget) -> Variant | None:
    value = headers.get(FORCE_HEADER)
    if value is None:
        return None
    variant = _VARIANTS.get(value.strip().lower())
    if variant is None:
        raise BadRequest(f"{FORCE_HEADER} must be 'candidate' or 'baseline', not {value!r}", code="invalid_variant")
    if not target.config.allow_force_variant:
        raise Forbidden(
            f"agent {target.agent!r} does not allow forcing a variant (set allow_force_variant in its config)",
            code="force_not_allowed",
        )
    return variant


def _fallback_for(target: object, ex: Exchange) -> Endpoint | None:
    if not isinstance(target, AgentTarget) or ex.variant != "candidate":
        return None
    if not target.config.fallback_to_baseline or target.baseline == target.candidate:
        return None
    return target.baseline


def _response_headers(ex: Exchange) -> dict[str, str]:
    headers = {"x-request-id": ex.request_id}
    if ex.agent != "none":
        headers["x-genesis-agent"] = ex.agent
        headers["x-genesis-variant"] = ex.variant
    if ex.model != "unknown":
        headers["x-genesis-model"] = ex.model
    if ex.fallback:
        headers["x-genesis-fallback"] = "true"
    return headers
