"""Which agent and variant answered a request id, for a short while: what feedback is attributed by.

Every agent request is remembered (not only the sampled ones: users rate any answer). ``remember``
runs on the request path after the answer, so it only touches memory: the memory home keeps a
bounded dict; the Redis home buffers the ids and a background task writes them every ``_FLUSH_S``
as one ``HSET`` into a hash per slice of time, so a burst of requests costs one command, and a dead
Redis costs only the ids beyond the buffer's cap. Lookups also read the not-yet-written buffer and
the batch being written, so feedback sent right after an answer is found by the replica that
served it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.exchange import Exchange
from gateway.flags.health import RedisHealth
from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.recent import RecentIds
from gateway.settings import ScoringSettings
from gateway.tasks import BackgroundTask

_FLUSH_S = 0.2
_SEP = "|"
_SLICES = 60
"""The Redis home keeps ids in this many hashes (slices of ``index_ttl_s``) at a time."""
_HSET_EACH = """
local entries, from = ARGV[2], 1
while from <= #entries do
  local to = string.find(entries, '\\n', from, true) or (#entries + 1)
  local space = string.find(entries, ' ', from, true)
  redis.call('HSET', KEYS[1], string.sub(entries, from, space - 1), string.sub(entries, space + 1, to - 1))
  from = to + 1
end
return redis.call('EXPIREAT', KEYS[1], ARGV[1])
"""
"""Sets each ``id agent|variant`` line of ARGV[2] in the hash KEYS[1], then its expiry (ARGV[1]): a batch
is one argument to pack instead of two per id (request ids, agent names and variants have no spaces or
newlines: ``gateway.proxy`` and the config check them)."""


class RequestIndex(Protocol):
    """Request id → (agent, variant), for ``index_ttl_s``."""

    def remember(self, ex: Exchange) -> None:
        """Note who answered ``ex``; never blocks or raises."""
        ...

    async def lookup(self, request_id: str) -> tuple[str, str] | None:
        """The agent and variant of a recent request, or None when unknown or expired."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class MemoryRequestIndex:
    """The embedded home: the ids in ``RecentIds`` (``index_ttl_s``, at most ``index_max_entries``,
    ~96 bytes each: ~10 MB at the default 100,000), each with a small code of (agent, variant).
    Remembering an id again updates its agent and variant but keeps its place (and expiry).
    """

    def __init__(self, settings: ScoringSettings):
        self._ids = RecentIds(settings.index_ttl_s, settings.index_max_entries)
        self._pairs: list[tuple[str, str]] = []
        self._codes: dict[tuple[str, str], int] = {}

    def remember(self, ex: Exchange) -> None:
        self._ids.put(ex.request_id, self._code(ex.agent, ex.variant))

    async def lookup(self, request_id: str) -> tuple[str, str] | None:
        code = self._ids.get(request_id)
        return None if code is None else self._pairs[code]

    def _code(self, agent: str, variant: str) -> int:
        code = self._codes.get((agent, variant))
        if code is None:  # bounded: agents of the config x variants
            code = self._codes[(agent, variant)] = len(self._pairs)
            self._pairs.append((agent, variant))
        return code

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisRequestIndex:
    """The production home: ids in one hash per slice of time, ``<prefix>req:<slice>`` = {id: ``agent|variant``}.

    A slice is 1/60 of ``index_ttl_s`` (at least a second); its hash expires ``index_ttl_s`` after the
    slice ends, so an id can be rated for between ``index_ttl_s`` and 1/60 more. A flush is one call
    of a server-side script that ``HSET``s the batch, passed as one newline-joined argument: redis-py
    packs one argument, not two per id (an ``HSET`` with a mapping cost the gateway ~2 µs of CPU per
    id, a ``SET ... EX`` each ~15 µs); a lookup asks the ~62 live slices in one pipeline (feedback is
    rare, answers are not).

    A batch being written sits in ``_inflight`` until Redis has it, so a lookup in that window still
    finds it. A failed write puts the batch back in the buffer (up to its cap) for the next flush;
    only ids that no longer fit, or that are still unwritten at close, are lost (counted in
    ``genesis_request_index_lost_total``). Redis errors go to ``RedisHealth`` (component
    ``request_index``): counted each time, logged once per outage.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: ScoringSettings,
        metrics: SamplerMetrics,
        *,
        health: RedisHealth | None = None,
    ):
        self._redis = redis
        self._prefix = settings.key_prefix + "req:"
        self._ttl = max(1, math.ceil(settings.index_ttl_s))
        self._slice = max(1, math.ceil(self._ttl / _SLICES))
        self._cap = settings.queue_limit(redis=True)
        self._pending: dict[str, str] = {}
        self._inflight: dict[str, str] = {}
        self._lost = metrics.index_lost
        self._health = health or RedisHealth()
        self._task = BackgroundTask("request-index-writer", self._run)
        self._hset_each = redis.register_script(_HSET_EACH)

    def remember(self, ex: Exchange) -> None:
        if len(self._pending) >= self._cap:
            self._lost.inc()
            return
        self._pending[ex.request_id] = ex.agent + _SEP + ex.variant

    async def lookup(self, request_id: str) -> tuple[str, str] | None:
        value: str | bytes | None = self._pending.get(request_id) or self._inflight.get(request_id)
        if value is None:
            value = await self._stored(request_id)
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        agent, _, variant = text.partition(_SEP)
        return agent, variant

    async def _stored(self, request_id: str) -> bytes | None:
        newest = int(time.time()) // self._slice
        async with self._redis.pipeline(transaction=False) as pipe:
            for number in range(newest, newest - _SLICES - 2, -1):  # every slice whose hash may be alive
                pipe.hget(self._prefix + str(number), request_id)
            values: list[bytes | None] = await pipe.execute()
        return next((v for v in values if v is not None), None)

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=1.0)
        unwritten = len(self._pending) + len(self._inflight)
        if unwritten:
            self._lost.inc(unwritten)
            self._pending, self._inflight = {}, {}

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_S)
            await self.flush()

    async def flush(self) -> None:
        """Write the buffered ids now; on a Redis error keep them for the next flush (never raises it)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        self._inflight = batch
        number = int(time.time()) // self._slice
        key = self._prefix + str(number)
        try:
            entries = "\n".join(map(" ".join, batch.items()))
            await self._hset_each(keys=[key], args=[(number + 1) * self._slice + self._ttl, entries])
        except (RedisError, OSError, TimeoutError) as exc:
            self._requeue(batch)
            self._health.failed("request_index", exc, impact="request ids buffered until it answers")
            return
        except BaseException:  # cancelled mid-write (close): keep the ids for close's accounting
            self._requeue(batch)
            raise
        finally:
            self._inflight = {}
        self._health.ok("request_index")

    def _requeue(self, batch: dict[str, str]) -> None:
        # The failed batch goes first: its ids are the oldest. Whatever exceeds the cap is lost.
        merged = batch | self._pending
        keep = dict(itertools.islice(merged.items(), self._cap))
        self._lost.inc(len(merged) - len(keep))
        self._pending = keep
