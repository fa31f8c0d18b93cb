"""Fixtures of the benchmark tests: a gateway on the simulator served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.demo import demo_config
from gateway.settings import GatewayConfig, Settings
from tests.support.servers import serve_app


@dataclass
class ServedGateway:
    """A running gateway and the registry its metrics land in."""

    url: str
    registry: CollectorRegistry


def serve_gateway(config: GatewayConfig) -> Iterator[ServedGateway]:
    """Serve ``config`` on a free port with a fresh metrics registry."""
    registry = CollectorRegistry()
    app = create_app(build_state(Settings(), config, registry=registry, env={}))
    with serve_app(app) as url:
        yield ServedGateway(url, registry)


@pytest.fixture
def demo_gateway() -> Iterator[ServedGateway]:
    """The demo config (five agents on the simulator, forcing allowed) behind a real gateway."""
    yield from serve_gateway(demo_config())


@pytest.fixture
def locked_gateway() -> Iterator[ServedGateway]:
    """The demo config with forcing a variant not allowed for any agent."""
    config = demo_config()
    agents = {n: a.model_copy(update={"allow_force_variant": False}) for n, a in config.agents.items()}
    yield from serve_gateway(config.model_copy(update={"agents": agents}))
