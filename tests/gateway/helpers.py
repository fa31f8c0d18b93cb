"""Helpers of the gateway tests: the fake Mistral server handle, test configs, gateways on real ports."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.exchange import Exchange, SampleSink
from gateway.settings import GatewayConfig, Settings
from gateway.state import GatewayState
from tests.support.servers import Tracked, serve_app

EXAMPLE = Path(__file__).resolve().parents[2] / "gateway" / "examples" / "gateway.yaml"
"""The example config that ships with the package."""
AGENTS = frozenset({"support_agent", "legal_agent", "content_agent", "qa_agent", "analyst_agent"})
"""The five agents of the example config."""
FAKE_KEY = "fake-upstream-key"
"""The key the fake Mistral server accepts; the gateway reads it from ``FAKE_KEY_ENV``."""
FAKE_KEY_ENV = "TEST_FAKE_MISTRAL_KEY"
FAKE_MODELS = (
    "open-mistral-7b",
    "fail-503",
    "fail-500",
    "fail-422",
    "fail-429",
    "cut-stream",
    "slow-40",
    "slow-300",
    "slow-150",
    "no-done",
)
"""Models the fake upstream serves as pass-through models (the fake's behaviour follows the id)."""


@dataclass
class FakeMistral:
    """Handle on the fake Mistral server process."""

    url: str
    key: str = FAKE_KEY

    def received(self) -> list[dict[str, Any]]:
        """Every request the fake got since the last reset: path, headers, body, outcome."""
        with urllib.request.urlopen(self.url + "/_received", timeout=5) as resp:
            records: list[dict[str, Any]] = json.load(resp)
        return records

    def reset(self) -> None:
        """Forget the recorded requests."""
        req = urllib.request.Request(self.url + "/_reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5):
            pass

    def wait_for(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0) -> list[dict[str, Any]]:
        """Poll the request log until ``check`` holds (bounded), and return it."""
        deadline = time.monotonic() + timeout
        records = self.received()
        while not check(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; fake received: {records}")
            time.sleep(0.02)
            records = self.received()
        return records


def make_config(fake_url: str | None = None, **extra: Any) -> GatewayConfig:
    """A config with a fast simulator upstream ``sim`` and, given a URL, the fake Mistral upstream ``fake``.

    Agents: ``support_agent`` (sim, 30 %), ``qa_agent`` (sim, forcing allowed); with the fake:
    ``legal_agent`` (fake, 50 %, forcing allowed) and ``content_agent`` (candidate ``fail-503``, 100 %,
    falls back to the baseline).
    """
    upstreams: dict[str, Any] = {
        "sim": {
            "kind": "simulated",
            "models": ["sim-base"],
            "simulator": {"first_token_ms": 0, "tokens_per_second": 100_000},
        }
    }
    agents: dict[str, Any] = {
        "support_agent": {
            "candidate": {"model": "ft:sim-base:support", "upstream": "sim"},
            "baseline": {"model": "sim-base", "upstream": "sim"},
            "candidate_share": 30,
            "sample_rate": 0,
        },
        "qa_agent": {
            "candidate": {"model": "ft:sim-base:qa", "upstream": "sim"},
            "baseline": {"model": "sim-base", "upstream": "sim"},
            "candidate_share": 50,
            "allow_force_variant": True,
        },
    }
    prices: dict[str, Any] = {
        "ft:sim-base:support": {"input": 2.0, "output": 6.0},
        "sim-base": {"input": 1.0, "output": 3.0},
    }
    if fake_url is not None:
        upstreams["fake"] = {
            "kind": "mistral",
            "base_url": fake_url,
            "api_key_env": FAKE_KEY_ENV,
            "models": list(FAKE_MODELS),
            "timeout_s": 10,
        }
        agents["legal_agent"] = {
            "candidate": {"model": "ft:open-mistral-7b:legal", "upstream": "fake"},
            "baseline": {"model": "open-mistral-7b", "upstream": "fake"},
            "candidate_share": 50,
            "allow_force_variant": True,
        }
        agents["content_agent"] = {
            "candidate": {"model": "fail-503", "upstream": "fake"},
            "baseline": {"model": "open-mistral-7b", "upstream": "fake"},
            "candidate_share": 100,
        }
        prices["open-mistral-7b"] = {"input": 0.25, "output": 0.25}
    raw = {"upstreams": upstreams, "agents": agents, "prices": prices, **extra}
    return GatewayConfig.model_validate(raw)


@dataclass
class Gateway:
    """A gateway served on a loopback port, with the registry its metrics go to."""

    url: str
    registry: CollectorRegistry
    state: GatewayState
    app: Tracked | None = None

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value, 0.0 when the series does not exist (yet); read once no request is in
        progress (the gateway records a request after its last byte)."""
        if self.app is not None:
            self.app.idle()
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def wait_metric(self, name: str, expected: float, timeout: float = 5.0, **labels: str) -> float:
        """Poll a sample until it reaches ``expected`` (metrics of a stream land after its last byte)."""
        deadline = time.monotonic() + timeout
        while (value := self.metric(name, **labels)) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return value


@contextlib.contextmanager
def running_gateway(
    config: GatewayConfig, env: dict[str, str] | None = None, sink: SampleSink | None = None
) -> Iterator[Gateway]:
    """Build a gateway for ``config`` (upstream keys from ``env``), serve it, stop it after."""
    registry = CollectorRegistry()
    environ = {FAKE_KEY_ENV: FAKE_KEY} if env is None else env
    state = build_state(Settings(), config, registry=registry, env=environ, sink=sink)
    app = Tracked(create_app(state))
    with serve_app(app) as url:
        yield Gateway(url, registry, state, app)


@dataclass
class CollectingSink:
    """A sample sink that keeps what it is offered, in memory; with ``room`` False it admits no sample."""

    offered: list[Exchange] = field(default_factory=list)
    room: bool = True

    def admit(self, agent: str) -> bool:
        return self.room

    def offer(self, exchange: Exchange) -> None:
        self.offered.append(exchange)


@dataclass
class HeaderTap:
    """Records the response headers an SDK's HTTP client received (the SDKs hide them otherwise)."""

    responses: list[httpx2.Headers] = field(default_factory=list)

    def __call__(self, response: httpx2.Response) -> None:
        self.responses.append(response.headers)

    @property
    def last(self) -> httpx2.Headers:
        return self.responses[-1]

    def client(self) -> httpx2.Client:
        """An HTTP client for ``Mistral(client=...)`` that records every response's headers."""
        return httpx2.Client(follow_redirects=True, event_hooks={"response": [self]})
