"""Two real ``genesis-gateway worker`` processes on one stream: one is SIGKILLed mid-batch, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway.sampling.record import record_encoder
from gateway.sampling.redis_stream import FIELD, StreamNames
from gateway.sampling.results import RedisScoreStore
from tests.conftest import REDIS_URL
from tests.sampling.helpers import record, scoring_config
from tests.support.servers import free_port, run_process

SAMPLES = 600
pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _write_config(tmp_path: Path, prefix: str) -> Path:
    config = scoring_config(
        redis_url=REDIS_URL, prefix=prefix, claim_idle_s=1.0, block_ms=100, batch_size=20, dead_letter_after=2
    )
    path = tmp_path / "gateway.yaml"
    path.write_text(json.dumps(config.model_dump(mode="json", exclude_none=True)))  # JSON is YAML
    return path


async def _until(check: Callable[[], Awaitable[bool]], what: str, limit_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {limit_s} s")
        await asyncio.sleep(0.01)


async def test_sigkill_mid_batch_loses_nothing_and_scores_each_sample_once(
    tmp_path: Path, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """Every sample is scored exactly once although one worker dies holding unacknowledged entries."""
    config_path = _write_config(tmp_path, redis_prefix)
    settings = scoring_config(prefix=redis_prefix).scoring
    names = StreamNames(settings)
    store = RedisScoreStore(redis_client, settings.model_copy(update={"keep_last": SAMPLES * 2}))
    ports = free_port(), free_port()
    base = ["-m", "gateway", "worker", "--config", str(config_path), "--metrics-host", "127.0.0.1"]
    with (
        run_process([*base, "--name", "victim", "--metrics-port", str(ports[0])], port=ports[0]) as victim,
        run_process([*base, "--name", "survivor", "--metrics-port", str(ports[1])], port=ports[1]),
    ):
        async with redis_client.pipeline(transaction=False) as pipe:
            for i in range(SAMPLES):
                sample = record(f"req-{i}", variant="candidate" if i % 2 else "baseline")
                pipe.xadd(names.stream, {FIELD: record_encoder.encode(sample)})
            pipe.xadd(names.stream, {FIELD: b"poison: not a sample record"})
            await pipe.execute()

        async def victim_frozen_holding_entries() -> bool:
            """Freeze the victim; it stays frozen only if it holds entries it has not acknowledged."""
            if await _scored(store) == 0:
                return False
            os.kill(victim.pid, signal.SIGSTOP)
            if await _owned_by(redis_client, names, "victim"):
                return True
            os.kill(victim.pid, signal.SIGCONT)
            return False

        await _until(victim_frozen_holding_entries, "the victim holding unacknowledged entries")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        assert await _owned_by(redis_client, names, "victim"), "the victim died holding entries (mid-batch)"

        async def all_done() -> bool:
            return await _scored(store) >= SAMPLES and await redis_client.xlen(names.stream) == 0

        await _until(all_done, f"{SAMPLES} scored samples and an empty stream")
        survivor_metrics = await asyncio.to_thread(_get, f"http://127.0.0.1:{ports[1]}/metrics")

    assert await _scored(store) == SAMPLES
    recent = await store.recent("qa_agent")
    ids = [s.record.request_id for s in recent]
    assert len(ids) == len(set(ids)) == SAMPLES
    dead = await redis_client.xrange(names.dead)
    assert [entry[1][FIELD] for entry in dead] == [b"poison: not a sample record"]
    assert (await redis_client.xpending(names.stream, names.group))["pending"] == 0
    assert (
        'genesis_quality_score_count{agent="qa_agent",dimension="specificity",variant="candidate"}' in survivor_metrics
    )


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


async def _owned_by(redis_client: aioredis.Redis, names: StreamNames, consumer: str) -> bool:
    return bool(await redis_client.xpending_range(names.stream, names.group, "-", "+", 1000, consumer))


async def _scored(store: RedisScoreStore) -> int:
    arms = await store.stats("qa_agent")
    return sum(arm.of("overall").count for arm in arms.values())
