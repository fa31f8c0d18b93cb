"""The result store's contract, on both homes: idempotent recording, moments, recent samples, feedback."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from gateway.experiments.moments import PASS
from gateway.sampling.record import FeedbackComment
from gateway.sampling.results import FEEDBACK, MemoryScoreStore, RedisScoreStore, ScoreStore
from gateway.settings import ScoringSettings
from tests.sampling.helpers import scored

Factory = Callable[[ScoringSettings], ScoreStore]


@pytest.fixture(params=["memory", "redis"])
def store_factory(request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str) -> Factory:
    """Builds a store of the parametrised home for given settings."""
    if request.param == "memory":
        return MemoryScoreStore
    return lambda settings: RedisScoreStore(redis_client, settings.model_copy(update={"key_prefix": redis_prefix}))


@pytest.fixture
def store(store_factory: Factory) -> ScoreStore:
    """A store keeping the last three samples."""
    return store_factory(ScoringSettings(keep_last=3))


async def test_a_request_is_recorded_once(store: ScoreStore) -> None:
    """Recording the same request id twice is accepted once and counted once."""
    assert await store.record(scored("r1", overall=9.0)) is True
    assert await store.record(scored("r1", overall=9.0)) is False
    arms = await store.stats("qa_agent")
    assert arms["candidate"].of("overall").count == 1


async def test_a_skipped_request_is_noted_once_in_the_scored_guard(store: ScoreStore) -> None:
    """A request id is scored or skipped, once: a redelivered skip is refused, and so is a score after it."""
    assert await store.record_skipped("r1") is True
    assert await store.record_skipped("r1") is False
    assert await store.record(scored("r1", overall=9.0)) is False
    assert await store.record(scored("r2", overall=9.0)) is True
    assert await store.record_skipped("r2") is False
    assert (await store.stats("qa_agent"))["candidate"].of("overall").count == 1


async def test_moments_per_variant_and_dimension(store: ScoreStore) -> None:
    """Count, sum and sum of squares accumulate per variant, dimension, overall and pass."""
    await store.record(scored("r1", overall=9.0, specificity=6.0))
    await store.record(scored("r2", overall=7.0, specificity=4.0))
    await store.record(scored("r3", variant="baseline", overall=5.0))
    arms = await store.stats("qa_agent")
    cand = arms["candidate"]
    assert (cand.of("overall").count, cand.of("overall").total, cand.of("overall").total_sq) == (2, 16.0, 130.0)
    assert cand.of("specificity").total == 10.0
    assert cand.of(PASS).total == 1.0  # 9.0 passes, 7.0 fails
    assert set(cand.dimensions) >= {"quality", "relevance", "format", "specificity", "overall", PASS}
    assert arms["baseline"].of("overall").count == 1
    assert await store.stats("support_agent") == {}


async def test_recent_samples_are_capped_newest_first(store: ScoreStore) -> None:
    """Only the last ``keep_last`` scored samples are kept, newest first, with their text and scores."""
    now = time.time()
    for i in range(5):
        await store.record(scored(f"r{i}", at=now + i))
    recent = await store.recent("qa_agent")
    assert [s.record.request_id for s in recent] == ["r4", "r3", "r2"]
    assert recent[0].record.messages[-1].role == "user"
    assert (await store.recent("qa_agent", limit=1))[0].record.request_id == "r4"


async def test_samples_older_than_the_retention_are_not_returned(store_factory: Factory) -> None:
    """Stored samples past the retention time are gone."""
    store = store_factory(ScoringSettings(retention_s=60))
    await store.record(scored("old", at=time.time() - 120))
    await store.record(scored("new"))
    assert [s.record.request_id for s in await store.recent("qa_agent")] == ["new"]


async def test_feedback_counts_once_per_request(store: ScoreStore) -> None:
    """Feedback adds to the feedback moments once per request id, and keeps the comment."""
    comment = FeedbackComment(
        request_id="r1", agent="qa_agent", variant="baseline", rating="up", text="great", at=time.time()
    )
    assert await store.record_feedback("r1", "qa_agent", "baseline", 1.0, comment) is True
    assert await store.record_feedback("r1", "qa_agent", "baseline", 0.0) is False
    assert await store.record_feedback("r2", "qa_agent", "baseline", 0.5) is True
    moments = (await store.stats("qa_agent"))["baseline"].of(FEEDBACK)
    assert (moments.count, moments.total) == (2, 1.5)
    assert [c.text for c in await store.comments("qa_agent")] == ["great"]


async def test_redis_layout_is_hashes_under_the_prefix(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """The Redis home keeps moments in one hash per agent, fields variant:dimension:count|total|total_sq."""
    store = RedisScoreStore(redis_client, ScoringSettings(key_prefix=redis_prefix))
    await store.record(scored("r1", overall=9.0))
    fields = await redis_client.hgetall(f"{redis_prefix}ab:qa_agent")
    assert fields[b"candidate:overall:count"] == b"1"
    assert float(fields[b"candidate:overall:total_sq"]) == 81.0
    assert await redis_client.ttl(f"{redis_prefix}scored:r1") > 0


async def test_the_memory_homes_duplicate_guard_is_bounded() -> None:
    """The embedded store remembers scored ids up to ``index_max_entries``, not every id for the whole
    retention: after 2,000 samples a duplicate of a recent one is still refused, while the first, long
    pushed out, would be counted again."""
    store = MemoryScoreStore(ScoringSettings(index_max_entries=100))
    for i in range(2000):
        assert await store.record(scored(f"r{i}", overall=8.0)) is True
    assert await store.record(scored("r1999", overall=8.0)) is False
    assert await store.record(scored("r1901", overall=8.0)) is False
    assert await store.record(scored("r0", overall=8.0)) is True
    assert (await store.stats("qa_agent"))["candidate"].of("overall").count == 2001
