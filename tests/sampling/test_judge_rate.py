"""The judge's rate limit: one bucket per process in memory, one bucket for every worker in Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from gateway.sampling.judge import RedisTokenBucket, TokenBucket

pytestmark = pytest.mark.redis


async def _taken(bucket: TokenBucket | RedisTokenBucket, tries: int) -> int:
    return sum([await bucket.take() for _ in range(tries)])


async def test_a_process_bucket_gives_its_burst_then_refills_at_the_rate() -> None:
    """Burst 3 at 20/s: three tokens at once, none more until the refill, then one per 50 ms."""
    bucket = TokenBucket(rate=20, burst=3)
    assert await _taken(bucket, 10) == 3
    await asyncio.sleep(0.12)
    assert 1 <= await _taken(bucket, 10) <= 3


async def test_workers_share_one_bucket_through_redis(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Two workers' buckets on one Redis hand out the burst once between them, not once each."""
    workers = [RedisTokenBucket(redis_client, redis_prefix, rate=0.01, burst=5) for _ in range(2)]
    taken = [await _taken(worker, 8) for worker in workers]
    assert sum(taken) == 5
    assert taken == [5, 0]
    assert await redis_client.ttl(redis_prefix + "judge:rate") > 0  # a bucket no one uses expires


async def test_the_shared_bucket_refills_on_redis_time(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Emptied, the shared bucket gives a token again once 1/rate has passed, to whichever worker asks."""
    first, second = (RedisTokenBucket(redis_client, redis_prefix, rate=10, burst=1) for _ in range(2))
    assert await first.take()
    assert not await second.take()
    await asyncio.sleep(0.15)
    assert await second.take()
    assert not await first.take()
