"""The embedded demo: the example agents on the built-in simulator, with traffic to watch.

Everything runs in one process with nothing installed: the simulator stands in for Mistral,
state lives in memory, and a small traffic generator calls the gateway over HTTP like an agent
would, so ``/metrics`` shows numbers within seconds.
"""

from __future__ import annotations

import asyncio
import random
from importlib import resources

import aiohttp
import structlog

from gateway.settings import GatewayConfig, Settings, SimulatorConfig, UpstreamConfig, UpstreamKind, parse_config
from gateway.tasks import BackgroundTask

_log = structlog.get_logger("gateway.demo")

DEMO_PROMPTS: dict[str, tuple[str, ...]] = {
    "support_agent": (
        "I was charged twice for my order #4821, how do I get a refund?",
        "I can't log in to my account after the password reset.",
        "My shipping is delayed by a week, what are my options?",
    ),
    "legal_agent": (
        "Draft a privacy policy disclaimer for a SaaS analytics product.",
        "What clauses should a freelance contract include about liability?",
        "Summarise our GDPR obligations when a user asks to delete their data.",
    ),
    "content_agent": (
        "Write a headline and outline for a blog post about remote onboarding.",
        "Plan a newsletter campaign for our spring product launch.",
        "Give me three social posts announcing our new API.",
    ),
    "qa_agent": (
        "How do I test async functions in pytest?",
        "How should I structure database fixtures for integration tests?",
        "Write a regression test for a bug where dates parse in the wrong timezone.",
    ),
    "analyst_agent": (
        "Design a growth dashboard for a B2B SaaS product.",
        "Explain unit economics for a subscription business with churn.",
        "Which KPIs show whether our cohort retention is improving?",
    ),
}


DEMO_LOG_LEVEL = "warning"
"""The demo's terminal shows its banner, not a line per request of its own traffic."""


def demo_log_level(settings: Settings) -> str:
    """``GATEWAY_LOG_LEVEL`` when it is set, else ``DEMO_LOG_LEVEL``."""
    return settings.log_level if "log_level" in settings.model_fields_set else DEMO_LOG_LEVEL


def demo_config() -> GatewayConfig:
    """The packaged example config with every upstream replaced by the simulator, forcing allowed."""
    text = resources.files("gateway").joinpath("examples/gateway.yaml").read_text(encoding="utf-8")
    example = parse_config(text, source="gateway/examples/gateway.yaml", env={})
    simulated = UpstreamConfig(
        kind=UpstreamKind.SIMULATED, simulator=SimulatorConfig(first_token_ms=60, tokens_per_second=300)
    )
    upstreams = {name: simulated.model_copy(update={"models": cfg.models}) for name, cfg in example.upstreams.items()}
    agents = {
        name: agent.model_copy(update={"candidate_share": 50.0, "sample_rate": 1.0, "allow_force_variant": True})
        for name, agent in example.agents.items()
    }
    return example.model_copy(update={"upstreams": upstreams, "agents": agents})


class TrafficGenerator:
    """Calls the gateway like a fleet of agents would: random agent, prompt and user, at a steady rate."""

    def __init__(self, base_url: str, *, rate_per_s: float, users: int = 200, seed: int = 1, timeout_s: float = 30.0):
        self._url = base_url.rstrip("/") + "/v1/chat/completions"
        self._interval = 1 / rate_per_s
        self._users = users
        self._rng = random.Random(seed)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._task = BackgroundTask("demo-traffic", self._run)
        self.in_flight: set[asyncio.Task[None]] = set()
        """Requests under way: held here so none is garbage-collected mid-request; each leaves when done."""
        self.sent = 0
        self.failed = 0

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            try:
                while True:
                    await asyncio.sleep(self._interval)
                    task = asyncio.create_task(self._one(session))
                    self.in_flight.add(task)
                    task.add_done_callback(self.in_flight.discard)
            finally:  # stopped: end the requests under way before their session closes
                for task in self.in_flight:
                    task.cancel()
                await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def _one(self, session: aiohttp.ClientSession) -> None:
        agent = self._rng.choice(sorted(DEMO_PROMPTS))
        body = {
            "model": agent,
            "messages": [{"role": "user", "content": self._rng.choice(DEMO_PROMPTS[agent])}],
            "stream": self._rng.random() < 0.3,
        }
        headers = {"x-genesis-user": f"user-{self._rng.randrange(self._users)}"}
        try:
            async with session.post(self._url, json=body, headers=headers) as resp:
                await resp.read()
                self.sent += 1
        except (aiohttp.ClientError, TimeoutError) as exc:  # the server may still be starting, or be slow
            self.failed += 1
            _log.debug("demo request failed", error=type(exc).__name__)


def banner(host: str, port: int) -> str:
    """What the demo prints: where to look and how to call it."""
    url = f"http://{host}:{port}"
    return f"""
Genesis Gateway demo — simulator upstream, five agents, in-memory state, traffic running.

  chat      POST {url}/v1/chat/completions
  models    GET  {url}/v1/models
  metrics   GET  {url}/metrics
  health    GET  {url}/readyz
  API docs  GET  {url}/schema

Call it like Mistral (pip install mistralai):

    from mistralai.client import Mistral
    client = Mistral(api_key="demo", server_url="{url}")
    reply = client.chat.complete(
        model="qa_agent",
        messages=[{{"role": "user", "content": "How do I test async functions in pytest?"}}],
        http_headers={{"X-Genesis-User": "user-42"}},
    )
    print(reply.choices[0].message.content)

Ctrl-C stops it.
"""
