"""Choosing the scoring homes from the config, the scoring section's validation, and the request index."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from gateway.exchange import DiscardSink
from gateway.sampling.factory import build_scoring
from gateway.sampling.memory import MemorySampleQueue
from gateway.sampling.redis_stream import RedisSampleQueue
from gateway.sampling.request_index import MemoryRequestIndex, RedisRequestIndex
from gateway.sampling.results import MemoryScoreStore, RedisScoreStore
from gateway.sampling.sink import Sampler
from gateway.settings import ScoringSettings
from tests.conftest import REDIS_URL
from tests.sampling.helpers import exchange, scoring_config


def test_without_redis_everything_is_embedded() -> None:
    """No redis_url: memory queue with its worker, memory results and index."""
    parts = build_scoring(scoring_config(), CollectorRegistry(), {}, redis_url=None)
    assert isinstance(parts.sink, Sampler)
    assert isinstance(parts.results, MemoryScoreStore) and isinstance(parts.index, MemoryRequestIndex)
    assert any(isinstance(s, MemorySampleQueue) for s in parts.services)


def test_with_redis_the_gateway_only_enqueues() -> None:
    """A redis_url: the stream producer, Redis results and index, and no scoring worker in the gateway."""
    parts = build_scoring(scoring_config(), CollectorRegistry(), {}, redis_url=REDIS_URL)
    assert isinstance(parts.results, RedisScoreStore) and isinstance(parts.index, RedisRequestIndex)
    assert any(isinstance(s, RedisSampleQueue) for s in parts.services)
    assert not any(isinstance(s, MemorySampleQueue) for s in parts.services)


def test_scoring_can_be_switched_off() -> None:
    """scoring.enabled false discards samples; feedback still has its index and store."""
    parts = build_scoring(scoring_config(enabled=False), CollectorRegistry(), {}, redis_url=None)
    assert isinstance(parts.sink, DiscardSink)
    assert parts.services == []


def test_existing_configs_load_with_scoring_defaults() -> None:
    """A config without a scoring section gets the documented defaults."""
    settings = scoring_config().scoring.model_copy(update={"key_prefix": "genesis:"})
    assert settings.queue_limit(redis=False) == 1_000 and settings.queue_limit(redis=True) == 10_000
    assert ScoringSettings(queue_max_size=50).queue_limit(redis=False) == 50
    assert settings.redaction.emails and not settings.judge.enabled


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"scorers": {"judge": {}}}, "configure the online judge under scoring.judge"),
        ({"judge": {"enabled": True}}, "needs both upstream and model"),
        ({"judge": {"enabled": True, "upstream": "nowhere", "model": "m"}}, "scoring.judge.upstream"),
        ({"queue_max_size": 0}, "queue_max_size"),
    ],
)
def test_bad_scoring_sections_fail_with_the_field(section: dict[str, object], message: str) -> None:
    """A judge configured twice, an enabled judge without a model or with an unknown upstream, a zero queue: refused."""
    with pytest.raises(ValidationError, match=message):
        scoring_config(**section)


async def test_the_memory_index_forgets_expired_and_oldest_ids() -> None:
    """Request ids expire after the TTL and the oldest leave when the index is full."""
    index = MemoryRequestIndex(ScoringSettings(index_max_entries=2))
    for i in range(3):
        index.remember(exchange(f"r{i}", variant="baseline"))
    assert await index.lookup("r0") is None
    assert await index.lookup("r2") == ("qa_agent", "baseline")
    expired = MemoryRequestIndex(ScoringSettings(index_ttl_s=1e-9))
    expired.remember(exchange("gone"))
    assert await expired.lookup("gone") is None
