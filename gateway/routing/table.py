"""The route table: what a request's ``model`` names, resolved from a dict built once at start."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import NotFound
from gateway.settings import AgentConfig, GatewayConfig, Price, Variant
from gateway.upstream.base import Upstream

_FREE = Price(input=0.0, output=0.0)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A concrete model on an upstream, with its price per token precomputed."""

    model: str
    upstream: Upstream
    input_price: float
    """USD per input token."""
    output_price: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated USD for one answer."""
        return input_tokens * self.input_price + output_tokens * self.output_price


@dataclass(frozen=True, slots=True)
class AgentTarget:
    """An agent alias: the request joins the agent's experiment."""

    agent: str
    config: AgentConfig
    candidate: Endpoint
    baseline: Endpoint

    def endpoint(self, variant: Variant) -> Endpoint:
        return self.candidate if variant == "candidate" else self.baseline


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """A concrete model id listed under an upstream: passed through and metered, no experiment."""

    endpoint: Endpoint


Target = AgentTarget | ModelTarget


class RouteTable:
    """Resolves ``model`` strings; an unknown one is a 404 in the Mistral shape."""

    def __init__(self, config: GatewayConfig, upstreams: dict[str, Upstream]):
        def endpoint(model: str, upstream: str) -> Endpoint:
            price = config.prices.get(model, _FREE)
            return Endpoint(model, upstreams[upstream], price.input / 1e6, price.output / 1e6)

        self._targets: dict[str, Target] = {}
        for name, cfg in config.upstreams.items():
            for model in cfg.models:
                self._targets[model] = ModelTarget(endpoint(model, name))
        for agent, acfg in config.agents.items():
            self._targets[agent] = AgentTarget(
                agent,
                acfg,
                endpoint(acfg.candidate.model, acfg.candidate.upstream),
                endpoint(acfg.baseline.model, acfg.baseline.upstream),
            )
        self.agents = {a: t for a, t in self._targets.items() if isinstance(t, AgentTarget)}
        self.models = sorted({t.endpoint.model for t in self._targets.values() if isinstance(t, ModelTarget)})

    def resolve(self, model: str) -> Target:
        target = self._targets.get(model)
        if target is None:
            raise NotFound(
                f"Invalid model: {model!r} is neither an agent of this gateway nor a model it serves "
                "(GET /v1/models lists them)",
                code="1500",
            )
        return target
