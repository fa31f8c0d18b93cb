"""Request-path metrics: traffic, latency, tokens, cost, upstream errors, fallbacks, assignments.

Names map to the OpenTelemetry GenAI conventions where those name the quantity (README, "Metrics"):
``genesis_request_duration_seconds`` ~ ``gen_ai.client.operation.duration``,
``genesis_time_to_first_token_seconds`` ~ ``gen_ai.server.time_to_first_token``,
``genesis_tokens_total{type}`` ~ ``gen_ai.client.token.usage{gen_ai.token.type}``. Bucket edges
are the ones those conventions recommend.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.metrics.tally import Tallies

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1)

_MODEL_LABELS = ("agent", "variant", "model")


class TrafficMetrics:
    """The request path's metrics; per-request updates go through ``tallies`` (``gateway.metrics.tally``)."""

    def __init__(self, registry: CollectorRegistry):
        self.tallies = Tallies(registry)
        self.requests = Counter(
            "genesis_requests",
            "Chat requests answered, by agent, assigned variant, serving model and status class.",
            (*_MODEL_LABELS, "status_class"),
            registry=registry,
        )
        self.duration = Histogram(
            "genesis_request_duration_seconds",
            "Time from receiving a chat request to sending the last byte of its answer.",
            _MODEL_LABELS,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.ttft = Histogram(
            "genesis_time_to_first_token_seconds",
            "Streaming requests: time from receiving the request to relaying the first content byte.",
            _MODEL_LABELS,
            buckets=TTFT_BUCKETS,
            registry=registry,
        )
        self.overhead = Histogram(
            "genesis_gateway_overhead_seconds",
            "Time spent in the gateway itself before forwarding and after the upstream answered.",
            ("agent",),
            buckets=OVERHEAD_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "genesis_tokens",
            "Tokens reported by the upstream, by type (input or output).",
            (*_MODEL_LABELS, "type"),
            registry=registry,
        )
        self.cost = Counter(
            "genesis_cost_usd",
            "Estimated spend in USD from the configured price table.",
            _MODEL_LABELS,
            registry=registry,
        )
        self.upstream_errors = Counter(
            "genesis_upstream_errors",
            "Upstream failures by upstream and reason (connect, timeout, status_503, mid_stream, ...).",
            ("upstream", "reason"),
            registry=registry,
        )
        self.fallbacks = Counter(
            "genesis_fallbacks",
            "Requests served by the baseline because the candidate's upstream failed.",
            ("agent",),
            registry=registry,
        )
        self.assignments = Counter(
            "genesis_assignments",
            "Experiment assignments by agent, variant and reason (hash, random, override, forced, disabled).",
            ("agent", "variant", "reason"),
            registry=registry,
        )
