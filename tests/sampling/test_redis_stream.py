"""The Redis stream home, against the real Redis: enqueue, consume, re-claim, dead-letter, Redis down."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from mistralai.client import Mistral
from prometheus_client import CollectorRegistry

from gateway.metrics.quality import SamplerMetrics, ScoringMetrics
from gateway.sampling.factory import build_worker
from gateway.sampling.judge import MemorySpendLedger
from gateway.sampling.queue import BacklogMonitor
from gateway.sampling.record import record_decoder, sample_of, scored_of
from gateway.sampling.redact import Redactor
from gateway.sampling.redis_stream import FIELD, RedisSampleQueue, StreamBacklog, StreamConsumer, StreamNames
from gateway.sampling.results import RedisScoreStore
from gateway.settings import GatewayConfig
from scoring.composite import Composite
from tests.conftest import REDIS_URL
from tests.sampling.helpers import PROMPTS, exchange, running_gateway, scoring_config, wait_until
from tests.support.servers import free_port


class Rig:
    """A producer and consumers of one stream under the test's prefix, with their metrics."""

    def __init__(self, redis: aioredis.Redis, config: GatewayConfig):
        self.redis = redis
        self.config = config
        self.settings = config.scoring
        self.names = StreamNames(self.settings)
        self.registry = CollectorRegistry()
        self.sampler_metrics = SamplerMetrics(self.registry)
        self.metrics = ScoringMetrics(self.registry)
        self.store = RedisScoreStore(redis, self.settings)
        self.queue = RedisSampleQueue(redis, self.settings, redact=Redactor(), metrics=self.sampler_metrics)

    def consumer(self, name: str) -> StreamConsumer:
        worker = build_worker(self.config, self.metrics, self.store, {}, MemorySpendLedger())
        return StreamConsumer(self.redis, self.settings, worker=worker, metrics=self.metrics, name=name)

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    async def scored_count(self) -> int:
        arms = await self.store.stats("qa_agent")
        return sum(arm.of("overall").count for arm in arms.values())


async def _enqueue(rig: Rig, count: int) -> None:
    await rig.queue.start()
    for i in range(count):
        rig.queue.offer(exchange(f"req-{i}", variant="candidate" if i % 2 else "baseline"))
    for _ in range(200):
        if await rig.redis.xlen(rig.names.stream) == count:
            break
        await asyncio.sleep(0.01)
    await rig.queue.close()


async def test_samples_flow_through_the_stream_and_are_scored(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Offered samples are written redacted, consumed, recorded, counted and removed from the stream."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix))
    await _enqueue(rig, 6)
    raw = (await redis_client.xrange(rig.names.stream, count=1))[0][1][FIELD]
    assert b"+33 6 12" not in raw and b"[phone]" in raw
    consumer = rig.consumer("c1")
    await consumer.ensure_group()
    while await consumer.step():
        pass
    assert await rig.scored_count() == 6
    assert await redis_client.xlen(rig.names.stream) == 0
    assert rig.metric("genesis_quality_score_count", agent="qa_agent", variant="candidate", dimension="overall") == 3
    pending = await redis_client.xpending(rig.names.stream, rig.names.group)
    assert pending["pending"] == 0


async def test_a_burst_is_written_as_one_entry_per_sample_in_offer_order(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """Samples offered together are written in batches (several per script call), yet each is its own
    stream entry, in the order offered, its multi-line answer whole."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix))
    await _enqueue(rig, 100)
    records = [record_decoder.decode(fields[FIELD]) for _, fields in await redis_client.xrange(rig.names.stream)]
    assert [r.request_id for r in records] == [f"req-{i}" for i in range(100)]
    assert {r.answer for r in records} == {exchange().answer}
    assert "\n\n1. " in records[0].answer
    assert rig.metric("genesis_samples_dropped_total", agent="qa_agent", reason="encode_error") == 0


async def test_entries_of_a_dead_consumer_are_reclaimed_and_recorded_once(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """Entries a dead consumer read but never acknowledged are re-claimed and recorded exactly once."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix, claim_idle_s=0.2))
    await _enqueue(rig, 4)
    survivor = rig.consumer("survivor")
    await survivor.ensure_group()
    # "ghost" reads two entries, records the first one's score, and dies before acknowledging either.
    [(_, taken)] = await redis_client.xreadgroup(rig.names.group, "ghost", {rig.names.stream: ">"}, count=2)
    first = record_decoder.decode(taken[0][1][FIELD])
    assert await rig.store.record(scored_of(first, Composite().score(sample_of(first)))) is True
    deadline = asyncio.get_running_loop().time() + 5
    while await redis_client.xlen(rig.names.stream) and asyncio.get_running_loop().time() < deadline:
        if not await survivor.step():
            await asyncio.sleep(0.05)
    assert await rig.scored_count() == 4  # the ghost's first entry was not counted again
    observed = sum(
        rig.metric("genesis_quality_scored_total", agent="qa_agent", variant=v, outcome=o)
        for v in ("candidate", "baseline")
        for o in ("pass", "fail")
    )
    assert observed == 3  # the survivor observed only the three it recorded
    assert (await redis_client.xpending(rig.names.stream, rig.names.group))["pending"] == 0


async def test_a_poison_entry_goes_to_the_dead_letter_stream(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """An entry that fails on every delivery is dead-lettered at the N-th, with its error and delivery count."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix, claim_idle_s=0.1, dead_letter_after=2))
    consumer = rig.consumer("c1")
    await consumer.ensure_group()
    poison_id = await redis_client.xadd(rig.names.stream, {FIELD: b'{"request_id": 42, "not": "a sample"}'})
    await consumer.step()  # first delivery fails, stays pending
    assert await redis_client.xlen(rig.names.dead) == 0
    for _ in range(50):
        await asyncio.sleep(0.05)
        await consumer.step()
        if await redis_client.xlen(rig.names.dead):
            break
    dead = await redis_client.xrange(rig.names.dead)
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields[b"id"] == poison_id
    assert fields[b"deliveries"] == b"2"
    assert b"ValidationError" in fields[b"error"] or b"Expected" in fields[b"error"]
    assert rig.metric("genesis_scoring_dead_letters_total") == 1
    assert rig.metric("genesis_scoring_errors_total", reason="score") == 2
    assert await redis_client.xlen(rig.names.stream) == 0


class _FailingRedactor(Redactor):
    """Raises on one answer text, as a bug in the writer's path would (a collaborator's double)."""

    def __call__(self, text: str) -> str:
        if text == "boom":
            raise RuntimeError("redactor bug")
        return super().__call__(text)


async def test_the_writer_outlives_a_failing_batch(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """A batch the writer fails on for a non-Redis reason is dropped as internal; later samples are still written."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix))
    queue = RedisSampleQueue(redis_client, rig.settings, redact=_FailingRedactor(), metrics=rig.sampler_metrics)
    await queue.start()
    try:
        queue.offer(exchange("req-bad", answer="boom"))
        for _ in range(200):
            if rig.metric("genesis_samples_dropped_total", agent="qa_agent", reason="internal"):
                break
            await asyncio.sleep(0.01)
        assert rig.metric("genesis_samples_dropped_total", agent="qa_agent", reason="internal") == 1
        queue.offer(exchange("req-good"))
        for _ in range(500):
            if await redis_client.xlen(rig.names.stream) == 1:
                break
            await asyncio.sleep(0.01)
        assert await redis_client.xlen(rig.names.stream) == 1
    finally:
        await queue.close()


async def test_backlog_gauges_read_the_stream(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Queue depth is the stream's length and lag the age of its oldest entry, as Redis sees them."""
    rig = Rig(redis_client, scoring_config(prefix=redis_prefix))
    monitor = BacklogMonitor(StreamBacklog(redis_client, rig.settings), rig.metrics)
    await monitor.measure()
    assert rig.metric("genesis_scoring_queue_depth") == 0
    await _enqueue(rig, 3)
    await asyncio.sleep(0.05)
    await monitor.measure()
    assert rig.metric("genesis_scoring_queue_depth") == 3
    assert rig.metric("genesis_scoring_lag_seconds") >= 0.04


def test_requests_succeed_and_samples_are_counted_as_dropped_when_redis_is_down() -> None:
    """With Redis on a closed port, every request still gets its answer and every sample is a redis_error drop."""
    config = scoring_config(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_s=0.5)
    with running_gateway(config) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        for _ in range(3):
            reply = client.chat.complete(model="qa_agent", messages=[{"role": "user", "content": PROMPTS["qa_agent"]}])
            assert reply.choices[0].message.content
        wait_until(
            lambda: gw.metric("genesis_samples_dropped_total", agent="qa_agent", reason="redis_error") == 3,
            what="three redis_error drops",
        )
        assert gw.metric("genesis_samples_offered_total", agent="qa_agent") == 3


def test_the_gateway_only_enqueues_when_redis_is_configured(redis_prefix: str) -> None:
    """With Redis, the gateway writes samples to the stream and scores nothing itself."""
    config = scoring_config(redis_url=REDIS_URL, prefix=redis_prefix)

    async def stream_length() -> int:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            return int(await client.xlen(redis_prefix + config.scoring.stream))
        finally:
            await client.aclose()

    try:
        with running_gateway(config) as gw:
            client = Mistral(api_key="k", server_url=gw.url)
            client.chat.complete(model="qa_agent", messages=[{"role": "user", "content": PROMPTS["qa_agent"]}])
            wait_until(lambda: asyncio.run(stream_length()) == 1, what="one stream entry")
            assert gw.registry.get_sample_value("genesis_scoring_queue_depth") is None
    finally:
        asyncio.run(_cleanup(redis_prefix))


async def _cleanup(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
