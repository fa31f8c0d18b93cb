"""One finished request, and what happens to it after the answer: metrics, the log line, sampling.

The request path fills an ``Exchange`` and hands it to ``Observer.record`` once the last byte is
sent. Recording is cheap and never waits: metric increments, one log event, and — for sampled
requests — a non-blocking offer to the sample sink (online scoring owns what happens next).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.logging import EventLog
from gateway.metrics import TrafficMetrics
from gateway.metrics.tally import TalliedCounter

NONE = "none"


@dataclass(slots=True)
class Exchange:
    """Everything known about one chat request when it ends. Holds prompt text only when sampled."""

    request_id: str
    started: float
    """``time.perf_counter()`` when the request arrived."""
    received_at: float
    """Wall-clock time (``time.time()``) when the request arrived."""
    agent: str = NONE
    variant: str = NONE
    model: str = "unknown"
    upstream: str = NONE
    stream: bool = False
    status: int = 200
    duration_s: float = 0.0
    ttft_s: float | None = None
    upstream_s: float = 0.0
    """Time spent waiting on the upstream, so that the gateway's own overhead is the rest."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    finish_reason: str | None = None
    error: str | None = None
    fallback: bool = False
    sampled: bool = False
    messages: list[Any] | None = None
    answer: str | None = None

    @property
    def status_class(self) -> str:
        return f"{self.status // 100}xx"


class SampleSink(Protocol):
    """Where sampled exchanges go for scoring. ``admit`` and ``offer`` must never block or raise."""

    def admit(self, agent: str) -> bool:
        """Whether a request of ``agent`` may be sampled now. A sink that would drop the sample for lack of
        room says no at once (and counts it), so the request keeps no prompt or answer text for nothing."""
        ...

    def offer(self, exchange: Exchange) -> None: ...


class DiscardSink:
    """Sink for a gateway that scores nothing (sample rate 0 everywhere, or scoring not configured)."""

    def admit(self, agent: str) -> bool:
        return False

    def offer(self, exchange: Exchange) -> None:
        return None


class Observer:
    """Turns finished exchanges into metrics, one log event each, and samples."""

    def __init__(
        self, metrics: TrafficMetrics, sink: SampleSink, *, remember: Callable[[Exchange], None] | None = None
    ):
        self._metrics = metrics
        self._sink = sink
        self._remember = remember
        """Notes every agent exchange's request id for feedback (memory only, never waits)."""
        self._log = EventLog("gateway.request", "request")
        self._series: dict[tuple[str, str, str], _Series] = {}
        """Tallies per (agent, variant, model), made once: ``labels()`` takes a lock and builds a key per call.
        Bounded: agents and models come from the config, unknown ones are refused before they are metered."""

    def record(self, ex: Exchange) -> None:
        series = self._series.get((ex.agent, ex.variant, ex.model))
        if series is None:
            series = self._series[(ex.agent, ex.variant, ex.model)] = _Series(
                self._metrics, ex.agent, ex.variant, ex.model
            )
        series.count(ex)
        self._metrics.tallies.updated()
        self._log.info(
            request_id=ex.request_id,
            agent=ex.agent,
            variant=ex.variant,
            model=ex.model,
            status=ex.status,
            stream=ex.stream,
            duration_ms=round(ex.duration_s * 1000, 2),
            input_tokens=ex.input_tokens,
            output_tokens=ex.output_tokens,
            finish_reason=ex.finish_reason,
            fallback=ex.fallback,
            error=ex.error,
        )
        if self._remember is not None and ex.agent != NONE and ex.status < 400:  # no feedback on failures
            self._remember(ex)
        if ex.sampled:
            self._sink.offer(ex)

    def admit_sample(self, agent: str) -> bool:
        """Whether a request of ``agent`` chosen for sampling is to be sampled (the sink has room)."""
        return self._sink.admit(agent)


class _Series:
    """The metric tallies of one (agent, variant, model), looked up once."""

    __slots__ = (
        "_labels",
        "_metrics",
        "_requests",
        "cost",
        "duration",
        "input_tokens",
        "output_tokens",
        "overhead",
        "ttft",
    )

    def __init__(self, metrics: TrafficMetrics, agent: str, variant: str, model: str):
        self._metrics = metrics
        self._labels = (agent, variant, model)
        self._requests: dict[int, TalliedCounter] = {}
        tallies = metrics.tallies
        self.duration = tallies.histogram(metrics.duration.labels(agent, variant, model))
        self.ttft = tallies.histogram(metrics.ttft.labels(agent, variant, model))
        self.input_tokens = tallies.counter(metrics.tokens.labels(agent, variant, model, "input"))
        self.output_tokens = tallies.counter(metrics.tokens.labels(agent, variant, model, "output"))
        self.cost = tallies.counter(metrics.cost.labels(agent, variant, model))
        self.overhead = tallies.histogram(metrics.overhead.labels(agent)) if agent != NONE else None

    def count(self, ex: Exchange) -> None:
        requests = self._requests.get(ex.status)
        if requests is None:
            child = self._metrics.requests.labels(*self._labels, ex.status_class)
            requests = self._requests[ex.status] = self._metrics.tallies.counter(child)
        requests.inc()
        self.duration.observe(ex.duration_s)
        if self.overhead is not None:
            self.overhead.observe(max(0.0, ex.duration_s - ex.upstream_s))
        if ex.ttft_s is not None:
            self.ttft.observe(ex.ttft_s)
        if ex.input_tokens or ex.output_tokens:
            self.input_tokens.inc(ex.input_tokens)
            self.output_tokens.inc(ex.output_tokens)
            self.cost.inc(ex.cost_usd)
