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

    def full(self) -> bool:
        return False

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


class FullQueue(BrokenQueue):
    """A queue with no room left."""

    def full(self) -> bool:
        return True


def test_a_full_queue_turns_a_sample_away_before_the_request_keeps_it() -> None:
    """admit says no while the queue is full, and counts that sample offered and dropped (queue_full) at once;
    with room it says yes and counts nothing yet (the offer will)."""
    registry = CollectorRegistry()
    metrics = SamplerMetrics(registry)
    assert Sampler(BrokenQueue(), metrics).admit("qa_agent")
    assert registry.get_sample_value("genesis_samples_offered_total", {"agent": "qa_agent"}) is None
    assert not Sampler(FullQueue(), metrics).admit("qa_agent")
    assert registry.get_sample_value("genesis_samples_offered_total", {"agent": "qa_agent"}) == 1
    dropped = {"agent": "qa_agent", "reason": "queue_full"}
    assert registry.get_sample_value("genesis_samples_dropped_total", dropped) == 1
