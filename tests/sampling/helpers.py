"""Helpers of the online-scoring tests: configs, gateways on real ports, records and polling."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.exchange import Exchange
from gateway.flags.model import AgentFlags
from gateway.sampling.record import ChatMessage, DimensionResult, SampleRecord, ScoredSample
from gateway.settings import GatewayConfig, Settings
from gateway.state import GatewayState
from tests.support.servers import Tracked, serve_app

AGENTS = ("support_agent", "qa_agent")
PROMPTS = {
    "support_agent": "I was charged twice for order #4821, how do I get a refund? Reach me at jane@example.com.",
    "qa_agent": "How do I test async functions in pytest? My phone is +33 6 12 34 56 78.",
}


def scoring_config(*, redis_url: str | None = None, prefix: str = "genesis:", **scoring: Any) -> GatewayConfig:
    """Two agents on a fast simulator, every answer sampled; ``scoring`` overrides the scoring section."""
    sim = {"kind": "simulated", "models": ["sim-base"], "simulator": {"first_token_ms": 0, "tokens_per_second": 1e5}}
    agents = {
        name: {
            "candidate": {"model": f"ft:sim-base:{name}", "upstream": "sim"},
            "baseline": {"model": "sim-base", "upstream": "sim"},
            "candidate_share": 50,
            "sample_rate": 1.0,
            "allow_force_variant": True,
        }
        for name in AGENTS
    }
    section = {"key_prefix": prefix, "claim_idle_s": 0.5, "block_ms": 50, **scoring}
    return GatewayConfig.model_validate(
        {"upstreams": {"sim": sim}, "agents": agents, "redis_url": redis_url, "scoring": section}
    )


@dataclass
class Gateway:
    url: str
    registry: CollectorRegistry
    state: GatewayState
    app: Tracked | None = None

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value, 0.0 while the series does not exist; read once no request is in progress
        (the gateway records a request after its last byte)."""
        if self.app is not None:
            self.app.idle()
        return self.registry.get_sample_value(name, labels) or 0.0


@contextlib.contextmanager
def running_gateway(
    config: GatewayConfig, *, prepare: Callable[[GatewayState], None] | None = None
) -> Iterator[Gateway]:
    """Build, optionally adjust, and serve a gateway for ``config`` on a loopback port.

    Every Redis key of the gateway (flags included) goes under the scoring key prefix.
    """
    registry = CollectorRegistry()
    state = build_state(Settings(redis_prefix=config.scoring.key_prefix + "flags:"), config, registry=registry)
    if prepare is not None:
        prepare(state)
    app = Tracked(create_app(state))
    with serve_app(app) as url:
        yield Gateway(url, registry, state, app)


def wait_until(check: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds (bounded)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.02)


def exchange(request_id: str = "req-1", *, agent: str = "qa_agent", variant: str = "candidate", **kw: Any) -> Exchange:
    """A finished, sampled exchange as the request path hands it over."""
    values: dict[str, Any] = {
        "model": "ft:sim-base:qa",
        "status": 200,
        "duration_s": 0.05,
        "finish_reason": "stop",
        "sampled": True,
        "messages": [{"role": "user", "content": PROMPTS["qa_agent"]}],
        "answer": "Use `pytest-asyncio`:\n\n1. `pip install pytest-asyncio`\n2. mark tests with "
        "`@pytest.mark.asyncio` and `await` the call.\n",
        **kw,
    }
    return Exchange(request_id=request_id, started=0.0, received_at=time.time(), agent=agent, variant=variant, **values)


def record(
    request_id: str = "req-1", *, agent: str = "qa_agent", variant: str = "candidate", **kw: Any
) -> SampleRecord:
    """A queued sample record."""
    values: dict[str, Any] = {
        "model": "ft:sim-base:qa",
        "messages": [ChatMessage("system", "You are a QA engineer."), ChatMessage("user", PROMPTS["qa_agent"])],
        "answer": "Install pytest-asyncio, then mark the test with @pytest.mark.asyncio and await the coroutine.",
        "finish_reason": "stop",
        "received_at": time.time(),
        **kw,
    }
    return SampleRecord(request_id=request_id, agent=agent, variant=variant, **values)


def scored(
    request_id: str = "req-1",
    *,
    agent: str = "qa_agent",
    variant: str = "candidate",
    overall: float = 8.5,
    specificity: float = 8.0,
    at: float | None = None,
    **kw: Any,
) -> ScoredSample:
    """A scored sample with chosen values."""
    dims = {
        "quality": DimensionResult(9.0, "clear"),
        "relevance": DimensionResult(8.0, "on topic"),
        "format": DimensionResult(9.0, "steps"),
        "specificity": DimensionResult(specificity, "some commands"),
    }
    return ScoredSample(
        record=record(request_id, agent=agent, variant=variant, **kw),
        dimensions=dims,
        overall=overall,
        passed=overall >= 8.0,
        threshold=8.0,
        scorer="heuristic",
        scored_at=time.time() if at is None else at,
    )


def unit_on(agent: str, variant: str) -> str:
    """A unit id that the config's 50 % split puts on ``variant`` (forced requests are never sampled)."""
    splitter = AgentFlags.from_config(agent, scoring_config().agents[agent]).splitter
    return next(u for u in (f"unit-{i}" for i in range(1000)) if splitter.assign(u).variant == variant)
