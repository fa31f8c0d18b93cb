"""Keeps the flag gauges current: flags and staleness every second, the SRM check every few seconds.

Reading the store's local copy is free, so the per-agent gauges follow it closely whichever store
(or injected store) the gateway runs with. The SRM check reads the assignment counts (a Redis
round trip per agent in production), hence its slower pace.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from prometheus_client import CollectorRegistry

from gateway.flags.counts import AssignmentCounter
from gateway.flags.errors import StoreUnavailable
from gateway.flags.srm import srm_check
from gateway.flags.store import FlagStore
from gateway.metrics.background import BackgroundMetrics
from gateway.metrics.flags import FlagMetrics
from gateway.tasks import BackgroundTask

_log = structlog.get_logger("gateway.flags")


class FlagMonitor:
    """A background service setting ``FlagMetrics`` from the store and the assignment counts."""

    def __init__(
        self,
        store: FlagStore,
        counter: AssignmentCounter,
        metrics: FlagMetrics,
        *,
        interval_s: float = 1.0,
        srm_interval_s: float = 10.0,
        errors: BackgroundMetrics | None = None,
    ):
        self._errors = errors or BackgroundMetrics(CollectorRegistry())
        self._store = store
        self._counter = counter
        self._metrics = metrics
        self._interval_s = interval_s
        self._srm_interval_s = srm_interval_s
        self._task = BackgroundTask("flag-monitor", self._run)

    def refresh_flags(self) -> None:
        """Set every per-agent flag gauge and the staleness from the local copy."""
        for flags in self._store.snapshot().values():
            self._metrics.observe_flags(flags)
        self._metrics.staleness.set(self._store.staleness())

    async def refresh_srm(self) -> None:
        """Run the SRM check of every agent's current phase and set its gauges."""
        for flags in self._store.snapshot().values():
            try:
                counts = await self._counter.counts(flags.agent, flags.phase)
            except StoreUnavailable:
                return  # counted by the counter; the gauges keep their last value
            self._metrics.observe_srm(flags.agent, srm_check(counts, flags.candidate_share))

    async def start(self) -> None:
        self.refresh_flags()
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        next_srm = time.monotonic()
        while True:
            try:
                self.refresh_flags()
                if time.monotonic() >= next_srm:
                    next_srm = time.monotonic() + self._srm_interval_s
                    await self.refresh_srm()
            except Exception:  # a worker loop: log and try again
                _log.exception("refreshing flag metrics failed")
                self._errors.failed("flag_monitor")
            await asyncio.sleep(self._interval_s)
