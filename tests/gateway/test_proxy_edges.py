"""Edges of the request path: a stream the client never read, an agent the flag store does not know."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
from prometheus_client import CollectorRegistry

from gateway.app import build_state
from gateway.flags.store import MemoryFlagStore
from gateway.proxy import Complete, Streaming
from gateway.settings import Settings
from gateway.state import GatewayState
from tests.gateway.helpers import FAKE_KEY, FAKE_KEY_ENV, FakeMistral, make_config

PROMPT = [{"role": "user", "content": "hello"}]


@contextlib.asynccontextmanager
async def upstreams_open(state: GatewayState) -> AsyncIterator[None]:
    """The state's upstream sessions, open for the block (the app's lifespan does this when served)."""
    for upstream in state.upstreams.values():
        await upstream.start()
    try:
        yield
    finally:
        for upstream in state.upstreams.values():
            await upstream.close()


async def test_a_stream_never_relayed_is_released_and_recorded(fake_mistral: FakeMistral) -> None:
    """A client gone before the first byte: abandoning the stream closes the upstream call and records a 499."""
    registry = CollectorRegistry()
    state = build_state(Settings(), make_config(fake_mistral.url), registry=registry, env={FAKE_KEY_ENV: FAKE_KEY})
    async with upstreams_open(state):
        body = msgspec.json.encode({"model": "slow-300", "messages": PROMPT, "stream": True})
        result = await state.proxy.handle({}, body)
        assert isinstance(result, Streaming)
        await result.abandon()
        await result.abandon()  # a second call (the relay's own cleanup racing it) changes nothing
        # polled in a thread: the event loop must run for the closed socket to actually go away
        await asyncio.to_thread(fake_mistral.wait_for, lambda rs: rs[-1]["outcome"] == "client_disconnected")
    labels = {"agent": "none", "variant": "none", "model": "slow-300", "status_class": "4xx"}
    assert registry.get_sample_value("genesis_requests_total", labels) == 1


async def test_an_agent_without_flags_is_served_by_its_baseline() -> None:
    """If the flag store lost an agent the config names, its requests go to the baseline, not to an error."""
    state = build_state(Settings(), make_config(), flags=MemoryFlagStore({}), registry=CollectorRegistry())
    async with upstreams_open(state):
        body = msgspec.json.encode({"model": "support_agent", "messages": PROMPT})
        result = await state.proxy.handle({"x-genesis-user": "anyone"}, body)
    assert isinstance(result, Complete)
    assert (result.headers["x-genesis-variant"], result.headers["x-genesis-model"]) == ("baseline", "sim-base")


async def test_a_complete_answer_is_recorded_once_it_is_sent() -> None:
    """The bookkeeping of a whole answer (metrics, log line, sample) waits until the handler has sent it."""
    registry = CollectorRegistry()
    state = build_state(Settings(), make_config(), registry=registry)
    async with upstreams_open(state):
        body = msgspec.json.encode({"model": "support_agent", "messages": PROMPT})
        result = await state.proxy.handle({"x-genesis-user": "anyone"}, body)
    assert isinstance(result, Complete)
    variant = result.headers["x-genesis-variant"]
    labels = {"agent": "support_agent", "variant": variant, "model": result.headers["x-genesis-model"]}
    assert registry.get_sample_value("genesis_requests_total", {**labels, "status_class": "2xx"}) is None
    result.sent()
    assert registry.get_sample_value("genesis_requests_total", {**labels, "status_class": "2xx"}) == 1


async def test_a_relayed_stream_is_recorded_once_after_its_end_is_sent() -> None:
    """A stream relayed to its end is recorded when the handler says the response has ended, once."""
    registry = CollectorRegistry()
    state = build_state(Settings(), make_config(), registry=registry)
    async with upstreams_open(state):
        body = msgspec.json.encode({"model": "support_agent", "messages": PROMPT, "stream": True})
        result = await state.proxy.handle({"x-genesis-user": "anyone"}, body)
        assert isinstance(result, Streaming)
        relayed = b"".join([piece async for piece in result.events])
    assert relayed.endswith(b"data: [DONE]\n\n")
    labels = {"agent": "support_agent", "variant": result.headers["x-genesis-variant"]}
    labels |= {"model": result.headers["x-genesis-model"], "status_class": "2xx"}
    assert registry.get_sample_value("genesis_requests_total", labels) is None
    result.sent()
    result.sent()
    await result.abandon()
    assert registry.get_sample_value("genesis_requests_total", labels) == 1
