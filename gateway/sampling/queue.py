"""The sample queue seam, and the monitor that reports any queue's backlog as gauges.

Two homes implement ``SampleQueue``: ``memory.MemorySampleQueue`` (a bounded deque scored by worker
tasks inside the gateway: the embedded default) and ``redis_stream.RedisSampleQueue`` (the gateway
appends to a Redis stream that ``genesis-gateway worker`` processes consume). The app factory picks
one from ``redis_url``. ``offer`` is called on the request path after the answer: it only appends
to memory, and when the bound is reached it drops the sample and counts it.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog
from redis.exceptions import RedisError

from gateway.exchange import Exchange
from gateway.metrics.quality import ScoringMetrics
from gateway.tasks import BackgroundTask


class SampleQueue(Protocol):
    """Where the sampler puts finished, sampled exchanges."""

    def offer(self, ex: Exchange) -> None:
        """Queue ``ex`` for scoring, or drop and count it; never blocks, never raises."""
        ...

    def full(self) -> bool:
        """Whether an offer now would be dropped for lack of room (``queue_full``)."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Backlog(Protocol):
    """A queue whose waiting samples can be measured."""

    async def backlog(self) -> tuple[int, float]:
        """Samples waiting, and the age in seconds of the oldest (0 when none wait)."""
        ...


class BacklogMonitor:
    """Sets the queue-depth and lag gauges from a queue every ``interval_s`` (a service)."""

    def __init__(self, queue: Backlog, metrics: ScoringMetrics, *, interval_s: float = 1.0):
        self._queue = queue
        self._metrics = metrics
        self._interval = interval_s
        self._task = BackgroundTask("scoring-backlog-monitor", self._run)
        self._log = structlog.get_logger("gateway.sampling")

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()

    async def measure(self) -> None:
        """Read the backlog once and set the gauges."""
        depth, lag = await self._queue.backlog()
        self._metrics.backlog(depth, lag)

    async def _run(self) -> None:
        while True:
            try:
                await self.measure()
            except (RedisError, OSError, TimeoutError) as exc:
                self._metrics.errors.labels("redis").inc()
                self._log.warning("scoring backlog not readable", error=type(exc).__name__)
            await asyncio.sleep(self._interval)
