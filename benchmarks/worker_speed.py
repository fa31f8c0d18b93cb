"""How many samples per second ONE scoring worker scores (heuristic scorers, real Redis stream).

Enqueues ``--samples`` sampled exchanges of the demo's five agents (answers from the simulator's
text, about 1 KB) through ``RedisSampleQueue``, then times one ``StreamConsumer`` — assembled by
``build_consumers`` as ``genesis-gateway worker`` does, judge off — draining them with ``step()``.
Every key goes under a unique prefix, deleted at the end (scan + delete, never FLUSHDB).

    .venv/bin/python -m benchmarks.worker_speed [--samples 2000] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from gateway.demo import DEMO_PROMPTS, demo_config
from gateway.exchange import Exchange
from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.factory import build_consumers, redis_client
from gateway.sampling.redact import Redactor
from gateway.sampling.redis_stream import RedisSampleQueue, StreamConsumer, StreamNames
from gateway.settings import GatewayConfig, JudgeSettings
from gateway.upstream.simulated_text import compose_answer


def bench_config(prefix: str) -> GatewayConfig:
    """The demo's agents and scorers, one consumer, no judge, every key under ``prefix``."""
    config = demo_config()
    scoring = config.scoring.model_copy(update={"key_prefix": prefix, "judge": JudgeSettings(), "concurrency": 1})
    return config.model_copy(update={"scoring": scoring})


def long_answer(model: str, prompt: str, size: int = 1000) -> str:
    """The simulator's answer to ``prompt``, continued with its answers to variants of it up to ``size`` chars."""
    parts = [compose_answer(model, prompt)]
    while sum(len(p) for p in parts) < size:
        parts.append(compose_answer(model, f"{prompt} ({len(parts)})"))
    return "\n\n".join(parts)


def exchanges(config: GatewayConfig, count: int) -> list[Exchange]:
    """``count`` finished, sampled exchanges cycling over the agents, their prompts and both variants."""
    pairs = [(agent, prompt) for agent, prompts in sorted(DEMO_PROMPTS.items()) for prompt in prompts]
    out = []
    for i in range(count):
        agent, prompt = pairs[i % len(pairs)]
        variant = "candidate" if i % 2 else "baseline"
        arm = config.agents[agent].candidate if variant == "candidate" else config.agents[agent].baseline
        answer = long_answer(arm.model, prompt)
        out.append(
            Exchange(
                request_id=f"bench-{i}",
                started=0.0,
                received_at=time.time(),
                agent=agent,
                variant=variant,
                model=arm.model,
                finish_reason="stop",
                sampled=True,
                messages=[{"role": "user", "content": prompt}],
                answer=answer,
            )
        )
    return out


async def enqueue(redis: aioredis.Redis, config: GatewayConfig, items: list[Exchange]) -> None:
    """Write ``items`` to the stream the way a gateway does, and wait until all are there."""
    settings = config.scoring.model_copy(update={"queue_max_size": max(len(items), 1)})
    queue = RedisSampleQueue(
        redis, settings, redact=Redactor(settings.redaction), metrics=SamplerMetrics(CollectorRegistry())
    )
    await queue.start()
    for ex in items:
        queue.offer(ex)
    stream = StreamNames(settings).stream
    for _ in range(6000):  # bounded: at most a minute
        if await redis.xlen(stream) >= len(items):
            break
        await asyncio.sleep(0.01)
    await queue.close()
    written = await redis.xlen(stream)
    if written != len(items):
        raise RuntimeError(f"only {written} of {len(items)} samples reached the stream")


async def drain(redis: aioredis.Redis, config: GatewayConfig, count: int) -> float:
    """Seconds one consumer takes to score and acknowledge every entry of the stream."""
    registry = CollectorRegistry()
    services = build_consumers(config, redis, registry, {}, name="bench-worker")
    consumer = next(s for s in services if isinstance(s, StreamConsumer))
    await consumer.ensure_group()
    stream = StreamNames(config.scoring).stream
    started = time.perf_counter()
    while await consumer.step():
        pass
    elapsed = time.perf_counter() - started
    left = await redis.xlen(stream)
    scored = sum(
        registry.get_sample_value("genesis_quality_scored_total", {"agent": a, "variant": v, "outcome": o}) or 0.0
        for a in DEMO_PROMPTS
        for v in ("candidate", "baseline")
        for o in ("pass", "fail")
    )
    if left or scored != count:
        raise RuntimeError(f"{left} entries left in the stream, {scored:.0f} of {count} scored")
    return elapsed


async def cleanup(redis: aioredis.Redis, prefix: str) -> int:
    """Delete every key under ``prefix``; returns how many."""
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
    for i in range(0, len(keys), 500):
        await redis.delete(*keys[i : i + 500])
    return len(keys)


async def run(url: str, count: int) -> None:
    prefix = f"bench:worker:{uuid.uuid4().hex[:12]}:"
    config = bench_config(prefix)
    items = exchanges(config, count)
    size = sum(len(ex.answer or "") for ex in items) / max(count, 1)
    redis = redis_client(url, config.scoring)
    try:
        await enqueue(redis, config, items)
        elapsed = await drain(redis, config, count)
    finally:
        deleted = await cleanup(redis, prefix)
        await redis.aclose()
    print(f"samples: {count} (answers {size:.0f} chars on average), batch {config.scoring.batch_size}")
    print(f"one worker: {elapsed:.2f} s, {count / elapsed:.0f} samples/s (heuristic scorers, Redis stream)")
    print(f"deleted {deleted} keys under {prefix}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    asyncio.run(run(args.redis_url, args.samples))


if __name__ == "__main__":
    main()
