"""The embedded queue home: a bounded deque in the gateway process, scored by worker tasks beside it.

``offer`` appends the finished ``Exchange`` itself (nothing is copied or encoded on the request
path) and wakes the workers; past ``queue_max_size`` the sample is dropped and counted. The worker
tasks redact and score one sample at a time and, between samples, leave the event loop to the
requests for as long as ``embedded_cpu_share`` asks while any are waiting (``LoopShare``). There
is no redelivery in memory: a sample whose scoring raises is counted as an error and a dead letter
(its content is not logged), and samples still waiting at shutdown are counted as dropped
(``shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

import structlog

from gateway.exchange import Exchange
from gateway.metrics.quality import SamplerMetrics, ScoringMetrics
from gateway.sampling.record import record_of
from gateway.sampling.redact import Redactor
from gateway.sampling.share import LoopShare
from gateway.sampling.worker import ScoringWorker


class MemorySampleQueue:
    """A ``SampleQueue`` and the service that drains it."""

    def __init__(
        self,
        *,
        max_size: int,
        worker: ScoringWorker,
        redact: Redactor,
        sampler_metrics: SamplerMetrics,
        scoring_metrics: ScoringMetrics,
        concurrency: int = 1,
        cpu_share: float = 1.0,
    ):
        self._items: deque[Exchange] = deque()
        self._max = max_size
        self._worker = worker
        self._redact = redact
        self._dropped = sampler_metrics
        self._metrics = scoring_metrics
        self._concurrency = concurrency
        self._cpu_share = cpu_share
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._log = structlog.get_logger("gateway.sampling")

    def offer(self, ex: Exchange) -> None:
        if len(self._items) >= self._max:
            self._dropped.drop(ex.agent, "queue_full")
            return
        self._items.append(ex)
        self._wake.set()

    def full(self) -> bool:
        return len(self._items) >= self._max

    async def backlog(self) -> tuple[int, float]:
        if not self._items:
            return 0, 0.0
        oldest = self._items[0]
        return len(self._items), max(0.0, time.time() - (oldest.received_at + oldest.duration_s))

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"scoring-worker-{i}") for i in range(self._concurrency)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._items:
            self._dropped.drop(self._items.popleft().agent, "shutdown")

    async def _run(self) -> None:
        share = LoopShare(self._cpu_share / self._concurrency)  # the loops split the share between them
        while True:
            await self._wake.wait()
            while self._items:
                ex = self._items.popleft()
                started = share.clock()
                await self._score(ex)
                await share.pace(share.clock() - started)
            self._wake.clear()

    async def _score(self, ex: Exchange) -> None:
        try:
            await self._worker.process(record_of(ex, self._redact))
        except Exception as exc:  # a worker loop: count, log without content, carry on
            self._metrics.errors.labels("score").inc()
            self._metrics.dead_letters.inc()
            self._log.warning("sample not scored", request_id=ex.request_id, agent=ex.agent, error=type(exc).__name__)
