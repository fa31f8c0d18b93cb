"""Fixtures of the gateway tests: the fake Mistral server process and gateways served on real ports.

The fake server (``tests/fakes/mistral_server.py``) runs once per test module; each test that asks
for ``fake_mistral`` gets it with its request log cleared. A gateway is served per test with a fresh
``CollectorRegistry`` so metric assertions read absolute values.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.helpers import FAKE_KEY, FakeMistral, Gateway, make_config, running_gateway
from tests.support.servers import free_port, run_process


@pytest.fixture(scope="module")
def fake_mistral_server() -> Iterator[FakeMistral]:
    """The fake Mistral server, one process per test module."""
    port = free_port()
    args = ["-m", "tests.fakes.mistral_server", "--port", str(port), "--api-key", FAKE_KEY]
    with run_process(args, port=port):
        yield FakeMistral(f"http://127.0.0.1:{port}")


@pytest.fixture
def fake_mistral(fake_mistral_server: FakeMistral) -> FakeMistral:
    """The fake Mistral server with an empty request log."""
    fake_mistral_server.reset()
    return fake_mistral_server


@pytest.fixture
def sim_gateway() -> Iterator[Gateway]:
    """A gateway whose agents run on the built-in simulator."""
    with running_gateway(make_config()) as gw:
        yield gw


@pytest.fixture
def fake_gateway(fake_mistral: FakeMistral) -> Iterator[Gateway]:
    """A gateway with the simulator and the fake Mistral server as upstreams."""
    with running_gateway(make_config(fake_mistral.url)) as gw:
        yield gw
