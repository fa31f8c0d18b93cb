"""The production queue home: a Redis stream with a consumer group.

Producer (``RedisSampleQueue``, in every gateway): ``offer`` appends the finished exchange to a
bounded in-process buffer; a writer task, woken by the first sample and then lingering ``_LINGER_S``
so that a batch gathers, redacts and encodes them and ``XADD``s each batch (``MAXLEN ~
stream_max_len``) with one call of a server-side script: one command per batch to pack and one
reply to parse. (CPU of the gateway per sample, measured: 100 µs for an ``XADD`` on its own, ~15 µs
in a pipeline of 50; the script takes a few µs.) A full buffer (Redis slow) drops with ``queue_full``; a failed write
(Redis down) drops the batch with ``redis_error``, any other failure with ``internal`` (logged; the
writer carries on). Requests never wait on either.

Consumer (``StreamConsumer``, in ``genesis-gateway worker`` processes, any number), at least once:

1. ``XAUTOCLAIM`` entries idle longer than ``claim_idle_s`` (their worker died or hung) — checked
   every ``claim_idle_s / 2``; then ``XREADGROUP >`` for new ones, ``batch_size`` at a time.
2. Each entry is scored and recorded (idempotent by request id: see ``results``), and only then
   acknowledged and deleted (``XACK`` + ``XDEL`` in one transaction). So the stream holds exactly
   the samples not yet done, and its length is the queue depth.
3. An entry whose scoring raises stays pending (the error is kept in ``<stream>:errors``) and is
   retried after ``claim_idle_s``; at the ``dead_letter_after``-th delivery it moves to the
   dead-letter stream with the error and its delivery count. An entry re-claimed after more
   deliveries than that (its workers kept dying on it) is dead-lettered without another try.
   Redis errors are not the entry's fault: they leave it pending and the loop backs off.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from typing import Any, cast

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from gateway.exchange import Exchange
from gateway.metrics.quality import SamplerMetrics, ScoringMetrics
from gateway.sampling.record import record_decoder, record_encoder, record_of
from gateway.sampling.redact import Redactor
from gateway.sampling.worker import ScoringWorker
from gateway.settings import ScoringSettings

FIELD = b"r"
"""The stream entry field holding the JSON sample record."""
_REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_BACKOFF_S = 0.5
_LINGER_S = 0.02
"""How long the writer lets samples gather after the first one arrives (a sample reaches a worker this much later)."""
_WRITE_CHUNK = 256
"""Samples per script call (each record is ~1-3 kB of JSON)."""
_XADD_EACH = """
local records, from, n = ARGV[3], 1, 0
while from <= #records do
  local to = string.find(records, '\\n', from, true) or (#records + 1)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], string.sub(records, from, to - 1))
  n = n + 1
  from = to + 1
end
return n
"""
"""``XADD``s every record of a batch to the stream: ARGV = max length, the field, then the records joined
by newlines (one argument to pack instead of one per record: JSON escapes every newline inside a record)."""


class StreamNames:
    """The keys of one scoring stream."""

    def __init__(self, settings: ScoringSettings):
        self.stream = settings.key_prefix + settings.stream
        self.dead = settings.key_prefix + settings.dead_letter_stream
        self.errors = self.stream + ":errors"
        self.group = settings.group


class RedisSampleQueue:
    """The gateway side: buffer in memory, write to the stream in batches, off the request path."""

    def __init__(self, redis: aioredis.Redis, settings: ScoringSettings, *, redact: Redactor, metrics: SamplerMetrics):
        self._redis = redis
        self._names = StreamNames(settings)
        self._max_len = settings.stream_max_len
        self._cap = settings.queue_limit(redis=True)
        self._redact = redact
        self._metrics = metrics
        self._items: deque[Exchange] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._xadd_each = redis.register_script(_XADD_EACH)
        self._log = structlog.get_logger("gateway.sampling")

    def offer(self, ex: Exchange) -> None:
        if len(self._items) >= self._cap:
            self._metrics.drop(ex.agent, "queue_full")
            return
        self._items.append(ex)
        self._wake.set()

    def full(self) -> bool:
        return len(self._items) >= self._cap

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scoring-stream-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*_REDIS_ERRORS):
            await asyncio.wait_for(self._drain(), timeout=2.0)
        while self._items:
            self._metrics.drop(self._items.popleft().agent, "shutdown")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._items) < _WRITE_CHUNK:
                await asyncio.sleep(_LINGER_S)
            self._wake.clear()
            try:
                await self._drain(len(self._items))  # later arrivals wait for the next round, and its linger
            except _REDIS_ERRORS as exc:
                self._log.warning("samples not written to Redis", error=type(exc).__name__)
            except Exception:  # a worker loop: a dead writer would silently turn every later sample into a drop
                self._log.exception("sample writer failed")
            else:
                continue
            await asyncio.sleep(_BACKOFF_S)  # samples arriving meanwhile wait in the bounded buffer
            self._wake.set()

    async def _drain(self, count: int | None = None) -> None:
        """Write ``count`` samples (all there are: None), ``_WRITE_CHUNK`` per call."""
        left = len(self._items) if count is None else count
        while left and self._items:
            batch = [self._items.popleft() for _ in range(min(_WRITE_CHUNK, left, len(self._items)))]
            left -= len(batch)
            try:
                await self._write(batch)
            except Exception as exc:  # counted here, where the lost batch is known; re-raised to the loop
                reason = "redis_error" if isinstance(exc, _REDIS_ERRORS) else "internal"
                for ex in batch:
                    self._metrics.drop(ex.agent, reason)
                raise

    async def _write(self, batch: list[Exchange]) -> None:
        payloads: list[bytes] = []
        for ex in batch:
            try:
                payloads.append(record_encoder.encode(record_of(ex, self._redact)))
            except (msgspec.EncodeError, TypeError, ValueError):
                self._metrics.drop(ex.agent, "encode_error")
        if payloads:
            await self._xadd_each(keys=[self._names.stream], args=[self._max_len, FIELD, b"\n".join(payloads)])


class StreamBacklog:
    """Depth and lag of the shared stream, identical from every worker (a ``queue.Backlog``)."""

    def __init__(self, redis: aioredis.Redis, settings: ScoringSettings):
        self._redis = redis
        self._stream = StreamNames(settings).stream

    async def backlog(self) -> tuple[int, float]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self._stream)
            pipe.xrange(self._stream, count=1)
            pipe.time()
            depth, first, now = await pipe.execute()
        if not depth or not first:
            return int(depth or 0), 0.0
        entry_ms = int(first[0][0].split(b"-")[0])
        now_ms = int(now[0]) * 1000 + int(now[1]) // 1000
        return int(depth), max(0.0, (now_ms - entry_ms) / 1000)


class StreamConsumer:
    """One consumer of the group: claims, reads, scores, acknowledges (a service)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: ScoringSettings,
        *,
        worker: ScoringWorker,
        metrics: ScoringMetrics,
        name: str,
    ):
        self._redis = redis
        self._names = StreamNames(settings)
        self._worker = worker
        self._metrics = metrics
        self.name = name
        self._batch = settings.batch_size
        self._block_ms = min(settings.block_ms, int(settings.redis_timeout_s * 500))
        self._idle_ms = max(1, int(settings.claim_idle_s * 1000))
        self._claim_every = settings.claim_idle_s / 2
        self._next_claim = 0.0
        self._cursor = "0-0"
        self._max_deliveries = settings.dead_letter_after
        self._retention_s = settings.retention_s
        self._error_ttl = max(1, math.ceil(settings.retention_s))
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("gateway.sampling")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"scoring-consumer-{self.name}")

    async def close(self) -> None:
        """Finish the entry in hand, then stop; what is left pending is re-claimed by others."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self._block_ms / 1000 + 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._names.stream, self._names.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _run(self) -> None:
        grouped = False
        while not self._stopping:
            try:
                if not grouped:  # also after an error: Redis may have restarted empty
                    await self.ensure_group()
                    grouped = True
                await self.step()
            except _REDIS_ERRORS as exc:
                grouped = False
                self._metrics.errors.labels("redis").inc()
                self._log.warning("scoring stream unavailable", consumer=self.name, error=type(exc).__name__)
                await asyncio.sleep(_BACKOFF_S)
            except Exception:  # a worker loop: without this a bug would leave the worker process idle but "up"
                self._metrics.errors.labels("internal").inc()
                self._log.exception("scoring consumer step failed", consumer=self.name)
                await asyncio.sleep(_BACKOFF_S)

    async def step(self) -> int:
        """Handle one batch (re-claimed first, else new); returns how many entries it handled."""
        entries = await self._claim() if time.monotonic() >= self._next_claim else []
        if not entries:
            entries = await self._read()
        for entry_id, fields, deliveries in entries:
            if self._stopping and deliveries == 1:
                break  # leave it pending; another worker re-claims it
            await self._handle(entry_id, fields, deliveries)
        return len(entries)

    async def _read(self) -> list[tuple[bytes, dict[bytes, bytes], int]]:
        reply = await self._redis.xreadgroup(
            self._names.group, self.name, {self._names.stream: ">"}, count=self._batch, block=self._block_ms
        )
        if not reply:
            return []
        _, items = cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]], reply)[0]
        return [(entry_id, fields, 1) for entry_id, fields in items]

    async def _claim(self) -> list[tuple[bytes, dict[bytes, bytes], int]]:
        self._next_claim = time.monotonic() + self._claim_every
        reply = await self._redis.xautoclaim(
            self._names.stream, self._names.group, self.name, self._idle_ms, start_id=self._cursor, count=self._batch
        )
        cursor, claimed = cast(tuple[bytes, list[tuple[bytes, dict[bytes, bytes] | None]]], reply)[:2]
        self._cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        if self._cursor != "0-0":
            self._next_claim = 0.0  # more idle entries wait: claim again on the next step
        items = [(entry_id, fields) for entry_id, fields in claimed if fields is not None]
        if not items:
            return []
        pending = await self._redis.xpending_range(
            self._names.stream,
            self._names.group,
            min=items[0][0],
            max=items[-1][0],
            count=len(items) * 2,
            consumername=self.name,
        )
        times = {p["message_id"]: int(p["times_delivered"]) for p in cast(list[dict[str, Any]], pending)}
        return [(entry_id, fields, times.get(entry_id, self._max_deliveries)) for entry_id, fields in items]

    async def _handle(self, entry_id: bytes, fields: dict[bytes, bytes], deliveries: int) -> None:
        payload = fields.get(FIELD, b"")
        if deliveries > self._max_deliveries:
            previous = await self._redis.hget(self._names.errors, entry_id)
            error = previous.decode() if isinstance(previous, bytes) else "never acknowledged (its workers died)"
            await self._dead_letter(entry_id, payload, deliveries, error)
            return
        try:
            await self._worker.process(record_decoder.decode(payload))
        except _REDIS_ERRORS:
            raise
        except Exception as exc:  # a worker loop: any failure of one entry is that entry's
            self._metrics.errors.labels("score").inc()
            await self._failed(entry_id, payload, deliveries, f"{type(exc).__name__}: {exc}"[:500])
            return
        await self._ack(entry_id)

    async def _ack(self, entry_id: bytes) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self._names.stream, self._names.group, entry_id)
            pipe.xdel(self._names.stream, entry_id)
            await pipe.execute()

    async def _failed(self, entry_id: bytes, payload: bytes, deliveries: int, error: str) -> None:
        self._log.warning("sample failed to score", entry_id=entry_id.decode(), deliveries=deliveries)
        if deliveries >= self._max_deliveries:
            await self._dead_letter(entry_id, payload, deliveries, error)
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._names.errors, entry_id, error)
            pipe.expire(self._names.errors, self._error_ttl)
            await pipe.execute()

    async def _dead_letter(self, entry_id: bytes, payload: bytes, deliveries: int, error: str) -> None:
        fields: dict[Any, Any] = {
            "id": entry_id,
            FIELD: payload,
            "error": error,
            "deliveries": deliveries,
            "consumer": self.name,
            "at": time.time(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            # Dead letters hold sample text too: trimmed to the retention time, like stored samples.
            oldest_ms = int((time.time() - self._retention_s) * 1000)
            pipe.xadd(self._names.dead, fields, minid=str(max(0, oldest_ms)), approximate=True)
            pipe.xack(self._names.stream, self._names.group, entry_id)
            pipe.xdel(self._names.stream, entry_id)
            pipe.hdel(self._names.errors, entry_id)
            await pipe.execute()
        self._metrics.dead_letters.inc()
        self._log.warning("sample dead-lettered", entry_id=entry_id.decode(), deliveries=deliveries)
