"""Fixtures of the flag tests: each store home (memory, Redis under the test's own prefix), started and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.flags.counts import AssignmentCounter, MemoryAssignmentCounter, RedisAssignmentCounter
from gateway.flags.redis_home import RedisKeys, redis_client
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.store import FlagStore, MemoryFlagStore, flags_from_config
from tests.conftest import REDIS_URL
from tests.flags.helpers import flags_config


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str
) -> AsyncIterator[FlagStore]:
    """A started flag store of each home, seeded from the test config."""
    seeds = flags_from_config(flags_config())
    home: FlagStore
    if request.param == "memory":
        home = MemoryFlagStore(seeds)
    else:
        home = RedisFlagStore(redis_client_for_test(), seeds, keys=RedisKeys(redis_prefix))
    await home.start()
    yield home
    await home.close()


@pytest.fixture(params=["memory", "redis"])
async def counter(
    request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str
) -> AsyncIterator[AssignmentCounter]:
    """A started assignment counter of each home."""
    home: AssignmentCounter
    client = None
    if request.param == "memory":
        home = MemoryAssignmentCounter()
    else:
        client = redis_client_for_test()
        home = RedisAssignmentCounter(client, keys=RedisKeys(redis_prefix), flush_s=0.05)
    await home.start()
    yield home
    await home.close()
    if client is not None:
        await client.aclose()


def redis_client_for_test() -> aioredis.Redis:
    """A client to the shared test Redis, configured like the gateway's."""
    return redis_client(REDIS_URL)
