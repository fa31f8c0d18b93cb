"""The sampler's sink on the request path: offers go to the queue, and a failing queue never raises."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gateway.exchange import Exchange
from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.sink import Sampler
from tests.sampling.helpers import exchange


class BrokenQueue:
    """A ``SampleQueue`` whose ``offer`` breaks its contract and raises (a collaborator's double)."""

    def offer(self, ex: Exchange) -> None:
        raise RuntimeError("queue bug")

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_a_failing_queue_is_counted_as_a_drop_not_raised() -> None:
    """An offer the queue fails on is counted offered and dropped (reason internal), and nothing reaches the caller."""
    registry = CollectorRegistry()
    Sampler(BrokenQueue(), SamplerMetrics(registry)).offer(exchange("req-1"))
    assert registry.get_sample_value("genesis_samples_offered_total", {"agent": "qa_agent"}) == 1
    assert registry.get_sample_value("genesis_samples_dropped_total", {"agent": "qa_agent", "reason": "internal"}) == 1
