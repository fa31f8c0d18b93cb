"""Tallies: the request path's metric updates, added to their Prometheus series in batches."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gateway.metrics.tally import Tallies

BUCKETS = (0.001, 0.01, 0.1, 1.0)
VALUES = (0.0, -0.5, 0.001, 0.0011, 0.01, 0.05, 0.1, 1.0, 1.5, 250.0, 0.0005)
"""On, below, between and beyond the bounds, and negative: each must land where ``observe`` puts it."""


def _series(metric: Counter | Histogram) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The metric's samples as its own ``collect`` gives them: what it holds, without flushing any tally."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metric.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_a_collection_of_the_registry_adds_what_is_pending_first() -> None:
    """get_sample_value (and so a scrape) reads the exact counts, although nothing was flushed before."""
    registry = CollectorRegistry()
    tallies = Tallies(registry)
    requests = Counter("requests", "r", ("agent",), registry=registry)
    tally = tallies.counter(requests.labels("qa"))
    for _ in range(3):
        tally.inc()
    tally.inc(2.5)
    assert _series(requests)[("requests_total", (("agent", "qa"),))] == 0  # still in the tally
    assert registry.get_sample_value("requests_total", {"agent": "qa"}) == 5.5
    assert registry.get_sample_value("requests_total", {"agent": "qa"}) == 5.5  # flushed once, not twice


def test_a_tallied_histogram_exposes_what_observe_would() -> None:
    """Bucket counts, count and sum equal those of a histogram fed the same values one by one."""
    tallied, direct = CollectorRegistry(), CollectorRegistry()
    tallies = Tallies(tallied)
    tally = tallies.histogram(Histogram("latency", "l", ("agent",), buckets=BUCKETS, registry=tallied).labels("qa"))
    plain = Histogram("latency", "l", ("agent",), buckets=BUCKETS, registry=direct).labels("qa")
    for value in VALUES:
        tally.observe(value)
        plain.observe(value)
    tallies.flush()
    tally.observe(0.02)  # a second batch adds to the first
    plain.observe(0.02)
    assert _without_created(generate_latest(tallied)) == _without_created(generate_latest(direct))


def test_without_a_running_loop_an_update_is_flushed_at_once() -> None:
    """Outside the event loop (a CLI command, a test) there is no timer to wait for."""
    registry = CollectorRegistry()
    tallies = Tallies(registry)
    requests = Counter("requests", "r", registry=registry)
    tallies.counter(requests).inc()
    tallies.updated()
    assert _series(requests)[("requests_total", ())] == 1


def test_with_a_running_loop_an_update_reaches_its_series_within_flush_s() -> None:
    """One timer per batch: the series holds nothing at first and everything flush_s later."""
    registry = CollectorRegistry()
    tallies = Tallies(registry, flush_s=0.05)
    requests = Counter("requests", "r", registry=registry)
    tally = tallies.counter(requests)

    async def serve() -> tuple[float, float]:
        for _ in range(4):
            tally.inc()
            tallies.updated()
        before = _series(requests)[("requests_total", ())]
        await asyncio.sleep(0.2)
        return before, _series(requests)[("requests_total", ())]

    assert asyncio.run(serve()) == (0, 4)


def test_a_loop_that_closed_before_its_timer_leaves_the_flush_to_the_next() -> None:
    """Counts made after an earlier loop ended are still flushed by a timer on the new one."""
    registry = CollectorRegistry()
    tallies = Tallies(registry, flush_s=0.05)
    requests = Counter("requests", "r", registry=registry)
    tally = tallies.counter(requests)

    async def update(wait_s: float) -> None:
        tally.inc()
        tallies.updated()
        await asyncio.sleep(wait_s)

    asyncio.run(update(0))  # its timer never fires
    asyncio.run(update(0.2))
    assert _series(requests)[("requests_total", ())] == 2


def _without_created(text: bytes) -> list[str]:
    return [line for line in text.decode().splitlines() if "_created" not in line]
