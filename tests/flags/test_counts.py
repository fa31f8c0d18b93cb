"""The assignment counter contract (memory and Redis), and the Redis counter's flushing."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gateway.flags.counts import AssignmentCounter, RedisAssignmentCounter, VariantCounts
from gateway.flags.health import RedisHealth
from gateway.flags.redis_home import RedisKeys, redis_client
from tests.conftest import REDIS_URL
from tests.flags.helpers import OwnRedis, poll

pytestmark = pytest.mark.redis


async def test_counts_hash_and_random_assignments_only(counter: AssignmentCounter) -> None:
    """Units assigned by the split count; overrides, forced variants and a killed agent do not."""
    for reason in ("hash", "hash", "random", "override", "forced"):
        counter.count("support_agent", "candidate", reason, phase=1)
    counter.count("support_agent", "baseline", "hash", phase=1)
    counter.count("support_agent", "baseline", "disabled", phase=1)
    counts = await poll(lambda: counter.counts("support_agent", 1), lambda c: c.total >= 4)
    assert counts == VariantCounts(candidate=3, baseline=1)


async def test_each_phase_counts_on_its_own(counter: AssignmentCounter) -> None:
    """Counts of a new phase start from zero; the old phase keeps its own."""
    counter.count("qa_agent", "candidate", "hash", phase=1)
    counter.count("qa_agent", "baseline", "hash", phase=2)
    counter.count("qa_agent", "baseline", "hash", phase=2)
    assert await poll(lambda: counter.counts("qa_agent", 2), lambda c: c.total == 2) == VariantCounts(0, 2)
    assert await poll(lambda: counter.counts("qa_agent", 1), lambda c: c.total == 1) == VariantCounts(1, 0)
    assert await counter.counts("support_agent", 1) == VariantCounts(0, 0)


async def test_replicas_add_up_in_redis(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Two replicas' counters flush into the same Redis counters (HINCRBY), read by either."""
    keys = RedisKeys(redis_prefix)
    clients = [redis_client_for(REDIS_URL), redis_client_for(REDIS_URL)]
    one, two = (RedisAssignmentCounter(c, keys=keys, flush_s=3600) for c in clients)
    for _ in range(3):
        one.count("support_agent", "candidate", "hash", phase=4)
    two.count("support_agent", "candidate", "hash", phase=4)
    two.count("support_agent", "baseline", "random", phase=4)
    assert await one.counts("support_agent", 4) == VariantCounts(0, 0)  # nothing sent before a flush
    await one.flush()
    await two.flush()
    assert await one.counts("support_agent", 4) == VariantCounts(4, 1)
    assert await redis_client.hget(keys.counts("support_agent", 4), "candidate") == b"4"
    assert await redis_client.ttl(keys.counts("support_agent", 4)) > 0
    for c in clients:
        await c.aclose()


async def test_increments_survive_an_outage() -> None:
    """Counts made while Redis is down are kept and sent once it answers; the failures are counted."""
    errors: list[str] = []
    server = OwnRedis()
    client = redis_client_for(server.url)
    counter = RedisAssignmentCounter(client, health=RedisHealth(errors.append), flush_s=3600)
    try:
        counter.count("qa_agent", "candidate", "hash", phase=1)
        await counter.flush()
        assert errors == ["counts"]
        counter.count("qa_agent", "candidate", "hash", phase=1)
        server.start()
        await counter.flush()
        assert await counter.counts("qa_agent", 1) == VariantCounts(2, 0)
    finally:
        await client.aclose()
        server.stop()


def redis_client_for(url: str) -> aioredis.Redis:
    return redis_client(url)
