"""How the benchmark reaches a model: the `ModelCaller` seam and its direct home, the upstream adapters.

``UpstreamCaller`` calls the configured upstreams (Mistral, OpenAI-compatible, simulator) the
way the gateway's request path does, without a gateway in between. ``GatewayCaller``
(``gateway.bench.gateway_caller``) goes through a running gateway with the mistralai SDK. Both
turn their failures into ``CallFailed`` / ``BenchError`` here, at their boundary.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from gateway.bench.errors import BenchError, CallFailed
from gateway.bench.model import VARIANT_TARGETS, Answer
from gateway.errors import UpstreamError, UpstreamRejected
from gateway.settings import GatewayConfig, Route
from gateway.upstream.base import Upstream
from gateway.wire import read_completion
from scoring.types import Message

_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


class ModelCaller(Protocol):
    """Answers one case for one agent and target."""

    async def start(self, agents: Sequence[str], targets: Sequence[str]) -> None:
        """Open connections and check that every agent × target can be called; raise ``BenchError`` if not."""
        ...

    async def close(self) -> None: ...

    def identity(self, agent: str, target: str) -> str:
        """What the answer depends on besides the messages: the cache key's model part."""
        ...

    async def call(self, agent: str, target: str, messages: Sequence[Message]) -> Answer:
        """One chat completion; failures are ``CallFailed`` (or ``BenchError`` to stop the run)."""
        ...


class PriceBook:
    """USD per token per model, from the config's price table (USD per million tokens)."""

    def __init__(self, config: GatewayConfig | None) -> None:
        prices = config.prices if config is not None else {}
        self._per_token = {model: (p.input / 1e6, p.output / 1e6) for model, p in prices.items()}

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """The answer's cost, or None when the model has no price."""
        price = self._per_token.get(model)
        if price is None:
            return None
        return input_tokens * price[0] + output_tokens * price[1]


def wire_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Messages in the chat wire format."""
    return [{"role": m.role, "content": m.content} for m in messages]


def resolve_route(config: GatewayConfig, agent: str, target: str) -> Route:
    """Where ``target`` is served for ``agent``: the agent's own variant, or a model id's upstream."""
    if target in VARIANT_TARGETS:
        agent_cfg = config.agents.get(agent)
        if agent_cfg is None:
            known = ", ".join(sorted(config.agents)) or "none"
            raise BenchError(f"the suite's agent {agent!r} is not in the config (agents: {known})")
        return agent_cfg.candidate if target == "candidate" else agent_cfg.baseline
    for name, upstream in config.upstreams.items():
        if target in upstream.models:
            return Route(model=target, upstream=name)
    for agent_cfg in config.agents.values():
        for route in (agent_cfg.candidate, agent_cfg.baseline):
            if route.model == target:
                return route
    if len(config.upstreams) == 1:
        return Route(model=target, upstream=next(iter(config.upstreams)))
    raise BenchError(
        f"model {target!r} is not served by any upstream of the config: list it under an upstream's models"
    )


class UpstreamCaller:
    """Calls models directly through the upstream adapters built from the config."""

    def __init__(self, config: GatewayConfig, upstreams: dict[str, Upstream]) -> None:
        self._config = config
        self._upstreams = upstreams
        self._routes: dict[tuple[str, str], Route] = {}

    async def start(self, agents: Sequence[str], targets: Sequence[str]) -> None:
        for agent in agents:
            for target in targets:
                self._routes[agent, target] = resolve_route(self._config, agent, target)
        for upstream in self._upstreams.values():
            await upstream.start()

    async def close(self) -> None:
        for upstream in self._upstreams.values():
            await upstream.close()

    def identity(self, agent: str, target: str) -> str:
        return self._route(agent, target).model

    async def call(self, agent: str, target: str, messages: Sequence[Message]) -> Answer:
        route = self._route(agent, target)
        payload = {"model": route.model, "messages": wire_messages(messages)}
        started = time.perf_counter()
        try:
            reply = await self._upstreams[route.upstream].complete(payload, request_id="bench-" + uuid.uuid4().hex)
        except UpstreamRejected as exc:
            detail = exc.body()[:300].decode(errors="replace")
            raise CallFailed(
                f"{route.upstream} rejected {route.model} ({exc.status}): {detail}",
                transient=exc.status in _TRANSIENT_STATUSES,
            ) from exc
        except UpstreamError as exc:
            # The upstream failed or timed out (after its own retries): worth another try later.
            raise CallFailed(exc.message, transient=exc.reason != "auth") from exc
        latency = time.perf_counter() - started
        facts = read_completion(reply.body, want_text=True)
        if facts.text is None:
            raise CallFailed(f"{route.upstream} sent an answer without text for {route.model}", transient=True)
        return Answer(
            text=facts.text,
            model=route.model,
            finish_reason=facts.finish_reason,
            input_tokens=facts.input_tokens,
            output_tokens=facts.output_tokens,
            latency_s=round(latency, 4),
        )

    def _route(self, agent: str, target: str) -> Route:
        route = self._routes.get((agent, target))
        if route is None:  # start() was not told about this pair
            route = self._routes[agent, target] = resolve_route(self._config, agent, target)
        return route
