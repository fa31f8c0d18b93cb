"""The request path's metric updates as plain additions, added to their Prometheus series in batches.

prometheus-client takes a lock and goes through two layers of calls on every ``inc`` and
``observe`` (~0.3 and ~0.6 µs; with ``--workers N`` each is a write to a memory-mapped file too),
and a request updates seven series. The request path runs on one event-loop thread, so it keeps
its counts in plain numbers instead (``TalliedCounter``, ``TalliedHistogram``), and ``Tallies.flush``
adds them to the real series:

* before every collection of the registry (a ``/metrics`` scrape, ``get_sample_value``): ``Tallies``
  is a collector registered ahead of the metrics it feeds, so what a scrape reads is exact;
* at most ``FLUSH_S`` after an update (a timer the first update after a flush arms), so that with
  several worker processes, where any worker answers a scrape from the shared files, another
  worker's counts are at most that late;
* when the gateway shuts down.

Not thread-safe, by design: update, collect and flush on the event loop's thread (``/metrics`` is an
async handler). Updates made where no loop runs are flushed at once.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

FLUSH_S = 1.0
"""Longest time a count waits in a tally once its request is recorded."""


class TalliedCounter:
    """A counter's increments, added up until the next flush."""

    __slots__ = ("_child", "_pending")

    def __init__(self, child: Counter):
        self._child = child
        self._pending = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self._pending += amount

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, 0.0
            self._child.inc(pending)


class TalliedHistogram:
    """A histogram's observations, counted per bucket until the next flush.

    A value goes to the first bucket whose upper bound is at least the value, as ``Histogram.observe``
    puts it. Adding a batch uses the child's bucket and sum values (``_buckets``, ``_sum``):
    prometheus-client has no public call to add many observations; the specification tests compare
    the exposition with ``observe``'s, so a change of those internals fails them.
    """

    __slots__ = ("_bounds", "_child", "_counts", "_sum")

    def __init__(self, child: Histogram):
        self._child = child
        self._bounds: tuple[float, ...] = tuple(child._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self._bounds, value)] += 1
        self._sum += value

    def flush(self) -> None:
        counts = self._counts
        if not any(counts):
            return
        buckets = self._child._buckets
        for i, n in enumerate(counts):
            if n:
                buckets[i].inc(n)
                counts[i] = 0
        total, self._sum = self._sum, 0.0
        self._child._sum.inc(total)


class Tallies(Collector):
    """Every tally of one registry's request-path metrics, and when they are flushed."""

    def __init__(self, registry: CollectorRegistry, *, flush_s: float = FLUSH_S):
        self._flush_s = flush_s
        self._tallies: list[TalliedCounter | TalliedHistogram] = []
        self._timer: asyncio.AbstractEventLoop | None = None
        """The loop whose timer will flush; a loop that closed first leaves it to the next."""
        registry.register(self)  # before the metrics it feeds: a collection flushes, then reads them

    def counter(self, child: Counter) -> TalliedCounter:
        """A tally for a labelled counter (one per child: create it once and keep it)."""
        tally = TalliedCounter(child)
        self._tallies.append(tally)
        return tally

    def histogram(self, child: Histogram) -> TalliedHistogram:
        """A tally for a labelled histogram (one per child: create it once and keep it)."""
        tally = TalliedHistogram(child)
        self._tallies.append(tally)
        return tally

    def updated(self) -> None:
        """Note that tallies changed: they are flushed within ``flush_s`` (at once without a running loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._timer is not loop:
            self._timer = loop
            loop.call_later(self._flush_s, self.flush)

    def flush(self) -> None:
        """Add every pending count to its series."""
        self._timer = None
        for tally in self._tallies:
            tally.flush()

    def collect(self) -> Iterable[Metric]:
        self.flush()
        return ()
