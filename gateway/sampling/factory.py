"""Builds online scoring once, from the config: memory homes without ``redis_url``, Redis homes with it.

Embedded (no Redis): memory queue + worker tasks in the gateway, memory results, memory index.
Production (Redis): the gateway only writes the stream (``RedisSampleQueue``) and the request
index; ``genesis-gateway worker`` builds the consumer side with ``build_consumers``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from gateway.exchange import DiscardSink, SampleSink
from gateway.flags.health import RedisHealth
from gateway.metrics.quality import SamplerMetrics, ScoringMetrics
from gateway.metrics.tally import Tallies
from gateway.sampling.feedback import FeedbackDesk
from gateway.sampling.judge import (
    JudgeRate,
    JudgeRunner,
    MemorySpendLedger,
    RedisSpendLedger,
    RedisTokenBucket,
    SpendLedger,
    UpstreamJudgeModel,
)
from gateway.sampling.memory import MemorySampleQueue
from gateway.sampling.queue import BacklogMonitor, SampleQueue
from gateway.sampling.redact import Redactor
from gateway.sampling.redis_stream import RedisSampleQueue, StreamBacklog, StreamConsumer
from gateway.sampling.request_index import MemoryRequestIndex, RedisRequestIndex, RequestIndex
from gateway.sampling.results import MemoryScoreStore, RedisScoreStore, ScoreStore
from gateway.sampling.sink import Sampler
from gateway.sampling.worker import ScoringWorker
from gateway.settings import GatewayConfig, ScoringSettings
from gateway.state import Service
from gateway.upstream.base import Upstream
from scoring.composite import Composite


@dataclass
class ScoringParts:
    """What the gateway needs from online scoring."""

    sink: SampleSink
    index: RequestIndex
    results: ScoreStore
    feedback: FeedbackDesk
    services: list[Service] = field(default_factory=list)
    """Open with the app, in order (index writer, queue and its workers, monitor, Redis client)."""


class RedisCloser:
    """Closes a Redis client when the app stops (a service)."""

    def __init__(self, redis: aioredis.Redis):
        self.redis = redis

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        await self.redis.aclose()


def redis_client(url: str, settings: ScoringSettings) -> aioredis.Redis:
    """A client with short timeouts: a hung Redis must cost samples, not pile up work."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        health_check_interval=30,
    )


def build_worker(
    config: GatewayConfig,
    metrics: ScoringMetrics,
    store: ScoreStore,
    upstreams: Mapping[str, Upstream],
    ledger: SpendLedger,
    *,
    rate: JudgeRate | None = None,
) -> ScoringWorker:
    """The scorers of the config, with the judge when enabled (``rate``: its shared bucket, else one per process)."""
    settings = config.scoring
    judge: JudgeRunner | None = None
    if settings.judge.enabled and settings.judge.upstream and settings.judge.model:
        model = UpstreamJudgeModel(
            upstreams[settings.judge.upstream], settings.judge.model, config.prices.get(settings.judge.model)
        )
        judged = Composite(settings.scorers.model_copy(update={"judge": settings.judge.rubric}), judge_model=model)
        judge = JudgeRunner(judged, settings.judge, ledger, metrics, rate)
    return ScoringWorker(composite=Composite(settings.scorers), store=store, metrics=metrics, judge=judge)


def build_scoring(
    config: GatewayConfig,
    registry: CollectorRegistry,
    upstreams: Mapping[str, Upstream],
    *,
    redis_url: str | None,
    health: RedisHealth | None = None,
    tallies: Tallies | None = None,
) -> ScoringParts:
    """The gateway side of online scoring, in the home ``redis_url`` selects (``health`` sees its Redis errors;
    the request-path counters are added up in ``tallies``, the gateway's, flushed with its other metrics)."""
    settings = config.scoring
    sampler_metrics = SamplerMetrics(registry, tallies)
    redact = Redactor(settings.redaction)
    if redis_url:
        return _redis_parts(redis_url, settings, sampler_metrics, redact, health or RedisHealth())
    scoring_metrics = ScoringMetrics(registry)
    results = MemoryScoreStore(settings)
    index = MemoryRequestIndex(settings)
    feedback = FeedbackDesk(index=index, results=results, metrics=sampler_metrics, redact=redact)
    if not settings.enabled:
        return ScoringParts(sink=DiscardSink(), index=index, results=results, feedback=feedback)
    worker = build_worker(config, scoring_metrics, results, upstreams, MemorySpendLedger())
    queue = MemorySampleQueue(
        max_size=settings.queue_limit(redis=False),
        worker=worker,
        redact=redact,
        sampler_metrics=sampler_metrics,
        scoring_metrics=scoring_metrics,
        concurrency=settings.concurrency,
        cpu_share=settings.embedded_cpu_share,
    )
    services: list[Service] = [queue, BacklogMonitor(queue, scoring_metrics)]
    return ScoringParts(
        sink=Sampler(queue, sampler_metrics), index=index, results=results, feedback=feedback, services=services
    )


def _redis_parts(
    url: str, settings: ScoringSettings, metrics: SamplerMetrics, redact: Redactor, health: RedisHealth
) -> ScoringParts:
    redis = redis_client(url, settings)
    results = RedisScoreStore(redis, settings)
    index = RedisRequestIndex(redis, settings, metrics, health=health)
    feedback = FeedbackDesk(index=index, results=results, metrics=metrics, redact=redact)
    services: list[Service] = [RedisCloser(redis), index]  # closed in reverse: the client last
    sink: SampleSink = DiscardSink()
    if settings.enabled:
        queue: SampleQueue = RedisSampleQueue(redis, settings, redact=redact, metrics=metrics)
        services.append(queue)
        sink = Sampler(queue, metrics)
    return ScoringParts(sink=sink, index=index, results=results, feedback=feedback, services=services)


def consumer_name() -> str:
    """A default consumer name unique per process: host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def build_consumers(
    config: GatewayConfig,
    redis: aioredis.Redis,
    registry: CollectorRegistry,
    upstreams: Mapping[str, Upstream],
    *,
    name: str,
) -> list[Service]:
    """The worker process's services: ``concurrency`` consumers and the backlog monitor."""
    settings = config.scoring
    metrics = ScoringMetrics(registry)
    store = RedisScoreStore(redis, settings)
    ledger = RedisSpendLedger(redis, settings.key_prefix)
    rate = RedisTokenBucket(redis, settings.key_prefix, settings.judge.requests_per_s, settings.judge.burst)
    worker = build_worker(config, metrics, store, upstreams, ledger, rate=rate)
    consumers: list[Service] = [
        StreamConsumer(
            redis,
            settings,
            worker=worker,
            metrics=metrics,
            name=name if settings.concurrency == 1 else f"{name}-{i}",
        )
        for i in range(settings.concurrency)
    ]
    return [*consumers, BacklogMonitor(StreamBacklog(redis, settings), metrics)]
