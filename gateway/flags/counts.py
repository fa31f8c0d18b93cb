"""Assignment counts per agent, phase and variant: the data of the sample-ratio-mismatch check.

Only units assigned by the split itself (``hash`` or ``random``) are counted: overrides, forced
variants and a disabled agent do not follow the configured share, so counting them would fake a
mismatch. Counts are kept per *phase* — the phase moves on whenever the share changes — so each
share is checked against the assignments made under it (counts "reset" with a new share).

The request path only adds one to a dict in memory (``count`` is sync and does no I/O). In
production a background task moves those increments to Redis counters (HINCRBY) every second, so
every replica's assignments add up in one place; increments made while Redis is down are kept
and sent when it answers again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from gateway.flags.errors import StoreUnavailable
from gateway.flags.health import RedisHealth
from gateway.flags.redis_home import RedisKeys
from gateway.settings import Variant
from gateway.tasks import BackgroundTask

if TYPE_CHECKING:  # gateway.metrics imports this module (via the SRM check): no runtime import back
    from gateway.metrics.background import BackgroundMetrics

_log = structlog.get_logger("gateway.flags")

COUNTED_REASONS = frozenset({"hash", "random"})
_KEEP_S = 30 * 86_400
"""Counters of a phase expire a month after its last increment."""

_Key = tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """Units assigned to each variant by the split, in one phase."""

    candidate: int = 0
    baseline: int = 0

    @property
    def total(self) -> int:
        return self.candidate + self.baseline


class AssignmentCounter(Protocol):
    """Counts assignments on the request path; reads the totals for the SRM check."""

    def count(self, agent: str, variant: Variant, reason: str, *, phase: int) -> None:
        """Count one assignment (ignored unless ``reason`` is hash or random). Never does I/O."""
        ...

    async def counts(self, agent: str, phase: int) -> VariantCounts:
        """The totals of every replica for one phase of an agent."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class MemoryAssignmentCounter:
    """Counts in this process: the embedded default."""

    def __init__(self) -> None:
        self._counts: defaultdict[_Key, int] = defaultdict(int)

    def count(self, agent: str, variant: Variant, reason: str, *, phase: int) -> None:
        if reason in COUNTED_REASONS:
            self._counts[(agent, phase, variant)] += 1

    async def counts(self, agent: str, phase: int) -> VariantCounts:
        return VariantCounts(self._counts[(agent, phase, "candidate")], self._counts[(agent, phase, "baseline")])

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisAssignmentCounter:
    """Counts in memory, flushed to Redis counters every ``flush_s`` by a background task."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        keys: RedisKeys | None = None,
        health: RedisHealth | None = None,
        flush_s: float = 1.0,
        errors: BackgroundMetrics | None = None,
    ):
        self._errors = errors
        self._client = client
        self._keys = keys or RedisKeys()
        self._health = health or RedisHealth()
        self._flush_s = flush_s
        self._pending: defaultdict[_Key, int] = defaultdict(int)
        self._task = BackgroundTask("assignment-counts-flush", self._flush_forever)

    def count(self, agent: str, variant: Variant, reason: str, *, phase: int) -> None:
        if reason in COUNTED_REASONS:
            self._pending[(agent, phase, variant)] += 1

    async def counts(self, agent: str, phase: int) -> VariantCounts:
        try:
            stored = await self._client.hgetall(self._keys.counts(agent, phase))
        except (RedisError, OSError) as exc:
            self._health.failed("counts", exc)
            raise StoreUnavailable(
                f"Redis did not answer ({type(exc).__name__}); assignment counts are unavailable",
                code="store_unavailable",
            ) from exc
        self._health.ok("counts")
        return VariantCounts(int(stored.get(b"candidate", 0)), int(stored.get(b"baseline", 0)))

    async def flush(self) -> None:
        """Send the pending increments in one transaction; on failure keep them for the next flush."""
        if not self._pending:
            return
        batch, self._pending = self._pending, defaultdict(int)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for (agent, phase, variant), n in batch.items():
                    key = self._keys.counts(agent, phase)
                    pipe.hincrby(key, variant, n)
                    pipe.expire(key, _KEEP_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            for pending, n in batch.items():
                self._pending[pending] += n
            self._health.failed("counts", exc)
            return
        self._health.ok("counts")

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()
        await self.flush()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_s)
            try:
                await self.flush()
            except Exception:  # a worker loop: log and carry on
                _log.exception("flushing assignment counts failed")
                if self._errors is not None:
                    self._errors.failed("assignment_counts")
