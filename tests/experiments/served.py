"""A served gateway whose results store already holds scored answers: for the API and CLI tests."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.sampling.record import DimensionResult, SampleRecord, ScoredSample
from gateway.sampling.results import ScoreStore
from gateway.settings import Settings
from gateway.state import GatewayState
from tests.experiments.helpers import experiment_config
from tests.support.servers import serve_app

RW, RO, CONTENT = "ab-test-rw-token", "ab-test-ro-token", "ab-test-content-token"
SETTINGS = Settings(admin_tokens=f"alice:{RW}:rw,grafana:{RO}:ro,ml:{CONTENT}:content")
AGENT = "support_agent"


@dataclass
class Served:
    """The gateway's URL, state and registry."""

    url: str
    state: GatewayState
    registry: CollectorRegistry

    def call(self, method: str, path: str, token: str | None = RW, json: Any = None) -> httpx2.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx2.request(method, self.url + path, headers=headers, json=json, timeout=10)


async def record_scores(store: ScoreStore, agent: str, variant: str, n: int, *, mean: float, seed: int) -> None:
    """``n`` scored answers with overall ~ N(mean, 0.8) (clipped to 0–10), through the store's real write path."""
    rng = random.Random(seed)
    for i in range(n):
        overall = min(10.0, max(0.0, rng.gauss(mean, 0.8)))
        record = SampleRecord(
            request_id=f"{agent}-{variant}-{i}", agent=agent, variant=variant, model="m", messages=[], answer="a"
        )
        await store.record(
            ScoredSample(
                record=record,
                dimensions={"specificity": DimensionResult(value=max(0.0, overall - 0.5))},
                overall=overall,
                passed=overall >= 8.0,
                threshold=8.0,
                scorer="test",
                scored_at=time.time(),
            )
        )


@contextlib.contextmanager
def served_gateway() -> Iterator[Served]:
    """support_agent with 200 scored answers per arm (candidate ~8.7, baseline ~8.1); qa_agent with none."""
    registry = CollectorRegistry()
    state = build_state(SETTINGS, experiment_config(), registry=registry)
    assert state.results is not None
    asyncio.run(record_scores(state.results, AGENT, "candidate", 200, mean=8.7, seed=1))
    asyncio.run(record_scores(state.results, AGENT, "baseline", 200, mean=8.1, seed=2))
    with serve_app(create_app(state)) as url:
        yield Served(url, state, registry)
