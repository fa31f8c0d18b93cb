"""The request index: the memory home past its cap and its expiry; the Redis home during a write and an outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from gateway.flags.health import RedisHealth
from gateway.metrics.flags import FlagMetrics
from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.request_index import MemoryRequestIndex, RedisRequestIndex
from gateway.settings import ScoringSettings
from tests.flags.helpers import OwnRedis
from tests.sampling.helpers import exchange


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server on loopback that accepts connections and never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()


def _index(url: str, registry: CollectorRegistry, *, cap: int = 100) -> tuple[RedisRequestIndex, aioredis.Redis]:
    client = aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    settings = ScoringSettings(key_prefix="test:reqidx:", queue_max_size=cap)
    health = RedisHealth(FlagMetrics(registry).redis_error)
    return RedisRequestIndex(client, settings, SamplerMetrics(registry), health=health), client


async def test_an_id_being_written_is_still_found(silent_redis: str) -> None:
    """While a flush waits on Redis, the ids it carries are found from memory, without a Redis round trip."""
    index, client = _index(silent_redis, CollectorRegistry())
    index.remember(exchange("r1", variant="candidate"))
    flushing = asyncio.create_task(index.flush())
    await asyncio.sleep(0.1)  # the batch has left the buffer and waits for Redis
    assert not flushing.done()
    assert await asyncio.wait_for(index.lookup("r1"), timeout=1.0) == ("qa_agent", "candidate")
    flushing.cancel()
    await asyncio.gather(flushing, return_exceptions=True)
    await client.aclose()


async def test_an_outage_keeps_the_ids_logs_once_and_counts() -> None:
    """Redis down: ids stay buffered (found, retried once Redis is back), over-cap ids are counted lost,
    each error is counted under request_index and the outage is logged once."""
    registry = CollectorRegistry()
    server = OwnRedis()  # not started: connections are refused
    index, client = _index(server.url, registry, cap=2)
    for i in range(3):
        index.remember(exchange(f"r{i}", variant="baseline"))
    try:
        with capture_logs() as logs:
            for _ in range(3):
                await index.flush()
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "redis unreachable; request ids buffered until it answers"
        ]
        assert registry.get_sample_value("genesis_redis_errors_total", {"component": "request_index"}) == 3
        assert registry.get_sample_value("genesis_request_index_lost_total") == 1  # r2: over the cap
        assert await index.lookup("r0") == ("qa_agent", "baseline")
        server.start()
        await index.flush()
        replica, _ = _index(server.url, CollectorRegistry())
        assert await replica.lookup("r1") == ("qa_agent", "baseline")  # from Redis: nothing buffered there
        assert registry.get_sample_value("genesis_request_index_lost_total") == 1
    finally:
        await _drop(client, "test:reqidx:")
        await client.aclose()
        server.stop()


async def test_ids_are_found_by_another_replica_and_expire_with_their_slice(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """A flush writes all buffered ids in one hash per slice of time (1/60 of the TTL); any replica finds
    them, an unknown id is None, and the hash lives for the TTL after its slice ends, no longer."""
    settings = ScoringSettings(key_prefix=redis_prefix, index_ttl_s=120)
    writer = RedisRequestIndex(redis_client, settings, SamplerMetrics(CollectorRegistry()))
    reader = RedisRequestIndex(redis_client, settings, SamplerMetrics(CollectorRegistry()))
    for i in range(50):
        writer.remember(exchange(f"id-{i}", variant="candidate" if i % 2 else "baseline"))
    await writer.flush()
    assert await reader.lookup("id-7") == ("qa_agent", "candidate")
    assert await reader.lookup("id-8") == ("qa_agent", "baseline")
    assert await reader.lookup("never-seen") is None
    keys = [k async for k in redis_client.scan_iter(match=f"{redis_prefix}req:*")]
    assert len(keys) == 1 and await redis_client.hlen(keys[0]) == 50
    # Slices of 2 s: the TTL runs from the slice's end (less up to a second or two of a slow test).
    assert 118 <= await redis_client.ttl(keys[0]) <= 122


async def _drop(client: aioredis.Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)


async def test_the_memory_index_keeps_the_newest_ids_when_full_many_times_over() -> None:
    """Past its cap (three times over), the memory index holds exactly the newest ids, with their variants."""
    index = MemoryRequestIndex(ScoringSettings(index_max_entries=1000))
    for i in range(3000):
        index.remember(exchange(f"r{i}", variant="candidate" if i % 2 else "baseline"))
    assert await index.lookup("r1999") is None
    assert await index.lookup("r2000") == ("qa_agent", "baseline")
    assert await index.lookup("r2999") == ("qa_agent", "candidate")
    assert len([i for i in range(3000) if await index.lookup(f"r{i}")]) == 1000


async def test_remembering_an_id_again_updates_its_variant() -> None:
    """A reused request id (a client's retry) is attributed to the answer remembered last."""
    index = MemoryRequestIndex(ScoringSettings())
    index.remember(exchange("same", variant="baseline"))
    index.remember(exchange("other", agent="support_agent"))
    index.remember(exchange("same", variant="candidate"))
    assert await index.lookup("same") == ("qa_agent", "candidate")
    assert await index.lookup("other") == ("support_agent", "candidate")


async def test_memory_ids_expire_in_arrival_order() -> None:
    """An id remembered a second after another outlives it by about that second."""
    index = MemoryRequestIndex(ScoringSettings(index_ttl_s=2.0))
    index.remember(exchange("early"))
    await asyncio.sleep(1.0)
    index.remember(exchange("late"))
    deadline = time.monotonic() + 10
    for _ in range(1000):  # bounded polling until the first id expires
        if await index.lookup("early") is None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert await index.lookup("early") is None
    assert await index.lookup("late") == ("qa_agent", "candidate")
