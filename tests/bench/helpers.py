"""Collaborators for the benchmark tests: real simulator upstreams wrapped to count, fail or refuse calls."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

from gateway.demo import demo_config
from gateway.errors import UpstreamRejected, UpstreamUnavailable
from gateway.settings import GatewayConfig, SimulatorConfig, UpstreamKind
from gateway.upstream.base import Payload, StreamHandle, Upstream, UpstreamReply
from gateway.upstream.factory import build_upstreams


def fast_demo_config() -> GatewayConfig:
    """The demo config (five agents on the simulator) with a shorter pace, so tests stay quick."""
    config = demo_config()
    fast = SimulatorConfig(first_token_ms=5, tokens_per_second=5000)
    upstreams = {n: u.model_copy(update={"simulator": fast}) for n, u in config.upstreams.items()}
    return config.model_copy(update={"upstreams": upstreams})


class WrappedUpstream:
    """A real upstream with hooks: counts completions, tracks calls in flight, fails or refuses on demand."""

    def __init__(self, inner: Upstream, *, fail_first: int = 0, reject_model: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind: UpstreamKind = inner.kind
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._fail_first = fail_first
        self._reject_model = reject_model

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        self.calls += 1
        if self.calls <= self._fail_first:
            raise UpstreamUnavailable("scripted 503", reason="status_503", upstream=self.name)
        if payload.get("model") == self._reject_model:
            raise UpstreamRejected(400, b'{"message": "scripted refusal"}', "application/json")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let other calls start, so in-flight counts are real
            return await self.inner.complete(payload, request_id=request_id)
        finally:
            self.in_flight -= 1

    def stream(self, payload: Payload, *, request_id: str) -> AbstractAsyncContextManager[StreamHandle]:
        return self.inner.stream(payload, request_id=request_id)

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    @property
    def ready(self) -> bool:
        return self.inner.ready


def wrapped_upstreams(config: GatewayConfig, **hooks: object) -> dict[str, WrappedUpstream]:
    """The config's real upstreams, each wrapped."""
    return {name: WrappedUpstream(u, **hooks) for name, u in build_upstreams(config, {}).items()}  # type: ignore[arg-type]
