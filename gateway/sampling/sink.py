"""The sampler's end of the request path: a ``SampleSink`` that hands sampled exchanges to the queue.

Whether a request is sampled is decided earlier, without I/O, from the agent's ``sample_rate``
flag (``gateway.proxy``). What reaches ``offer`` is a finished exchange with its prompt and answer;
the sink counts it and passes the exchange object itself to the queue, which appends it to memory
or drops and counts it. Nothing is copied, encoded or redacted here: that happens off the request
path, in the queue's writer or worker.
"""

from __future__ import annotations

import structlog

from gateway.exchange import Exchange
from gateway.metrics.quality import SamplerMetrics
from gateway.sampling.queue import SampleQueue


class Sampler:
    """``SampleSink`` for online scoring."""

    def __init__(self, queue: SampleQueue, metrics: SamplerMetrics):
        self._queue = queue
        self._metrics = metrics
        self._log = structlog.get_logger("gateway.sampling")

    def admit(self, agent: str) -> bool:
        """No when the queue is full: that sample is counted offered and dropped (``queue_full``) now,
        before the request keeps its prompt and answer text (a sampled stream decodes every event)."""
        if not self._queue.full():
            return True
        self._metrics.offer(agent)
        self._metrics.drop(agent, "queue_full")
        return False

    def offer(self, exchange: Exchange) -> None:
        try:
            self._metrics.offer(exchange.agent)
            self._queue.offer(exchange)
        except Exception as exc:  # the sink must never fail a request that already succeeded
            self._log.warning("sample not offered", request_id=exchange.request_id, error=type(exc).__name__)
            self._metrics.drop(exchange.agent, "internal")
