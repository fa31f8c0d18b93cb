"""Online-scoring metrics: sampling, the scoring queue, quality scores, judge spend and feedback.

Where each one is served, and why the numbers stay right with several processes:

* ``SamplerMetrics`` (samples offered and dropped, feedback) live where requests arrive: every
  gateway process. They are counters, so Prometheus sums them over replicas.
* ``ScoringMetrics`` (scores, pass/fail, skips, errors, dead letters, judge cost, queue depth and
  lag) live where samples are scored: inside the gateway in the embedded default (its own
  ``/metrics``), in each ``genesis-gateway worker`` process with Redis (``--metrics-port``, 9464 by
  default). Counters and histograms are per process and Prometheus sums them; a sample is
  observed only by the worker whose result the store accepted first, so a redelivered entry is
  never counted twice. ``genesis_scoring_queue_depth`` and ``genesis_scoring_lag_seconds`` are read
  from the shared Redis stream, so every worker reports the same value: query them with ``max``
  (not ``sum``) across workers. In the embedded home each process reports its own queue.

Labels are bounded: ``agent`` comes from the config, ``variant`` is candidate/baseline,
``dimension`` one of quality/relevance/format/specificity/overall, ``outcome`` pass/fail,
``rating`` up/down/1..5, ``reason`` a fixed set named in each metric's help.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway.metrics.tally import TalliedCounter, Tallies

SCORE_BUCKETS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)
QUALITY_DIMENSIONS = ("quality", "relevance", "format", "specificity", "overall")
RATINGS = ("up", "down", "1", "2", "3", "4", "5")

DROP_REASONS = ("queue_full", "redis_error", "encode_error", "shutdown", "internal")
"""Why a sample never reached the queue (``internal``: a bug in the sampler or the queue writer, logged)."""
SKIP_REASONS = ("truncated", "error", "empty")
"""Why a queued sample was counted but not scored."""
ERROR_REASONS = ("redis", "score", "judge", "judge_rate", "judge_budget", "internal")
"""What went wrong while scoring (the judge reasons mean the sample got heuristic scores only; ``internal``
is a bug in the consumer loop, logged with its traceback)."""


class SamplerMetrics:
    """The request side of scoring: what was offered to the queue and what was dropped, and feedback."""

    def __init__(self, registry: CollectorRegistry, tallies: Tallies | None = None):
        """``tallies``: the registry's, where the gateway flushes them all (else new ones, registered here)."""
        self._tallies = tallies if tallies is not None else Tallies(registry)  # registered before these counters
        self.offered = Counter(
            "genesis_samples_offered",
            "Sampled answers offered to the scoring queue, by agent.",
            ("agent",),
            registry=registry,
        )
        self.dropped = Counter(
            "genesis_samples_dropped",
            "Sampled answers dropped before queueing, by agent and reason (" + ", ".join(DROP_REASONS) + ").",
            ("agent", "reason"),
            registry=registry,
        )
        self.feedback = Counter(
            "genesis_feedback",
            "User feedback received, by agent, variant and rating (up, down, 1..5).",
            ("agent", "variant", "rating"),
            registry=registry,
        )
        self.index_lost = Counter(
            "genesis_request_index_lost",
            "Request ids never written to the Redis request index (buffer full while Redis failed, or unwritten "
            "at shutdown); feedback on them gets 404.",
            registry=registry,
        )
        self._children: dict[tuple[object, ...], TalliedCounter] = {}
        """Tallies of the offered and dropped counters' children, made once (agents of the config x reasons):
        both are counted on the request path, where a request the queue has no room for counts both
        (``gateway.metrics.tally``: a child's ``inc`` takes a lock, ``labels()`` builds a key per call)."""

    def offer(self, agent: str) -> None:
        """Count one sample offered to the queue (whether it is then queued or dropped)."""
        self._child(self.offered, agent).inc()
        self._tallies.updated()

    def drop(self, agent: str, reason: str, count: int = 1) -> None:
        self._child(self.dropped, agent, reason).inc(count)
        self._tallies.updated()

    def _child(self, counter: Counter, *labels: str) -> TalliedCounter:
        key: tuple[object, ...] = (counter, *labels)
        tally = self._children.get(key)
        if tally is None:
            tally = self._children[key] = self._tallies.counter(counter.labels(*labels))
        return tally


class ScoringMetrics:
    """The worker side: quality scores per agent, variant and dimension, and the queue's health."""

    def __init__(self, registry: CollectorRegistry):
        self.score = Histogram(
            "genesis_quality_score",
            "Scores of sampled answers on the 0-10 scale, by agent, variant and dimension (incl. overall).",
            ("agent", "variant", "dimension"),
            buckets=SCORE_BUCKETS,
            registry=registry,
        )
        self.scored = Counter(
            "genesis_quality_scored",
            "Sampled answers scored, by agent, variant and outcome (pass or fail against the threshold).",
            ("agent", "variant", "outcome"),
            registry=registry,
        )
        self.skipped = Counter(
            "genesis_samples_skipped",
            "Sampled answers counted but not scored, by agent and reason (" + ", ".join(SKIP_REASONS) + ").",
            ("agent", "reason"),
            registry=registry,
        )
        self.queue_depth = Gauge(
            "genesis_scoring_queue_depth",
            "Samples waiting to be scored (with Redis: the shared stream, same value on every worker).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.lag = Gauge(
            "genesis_scoring_lag_seconds",
            "Age of the oldest sample not yet scored; 0 when the queue is empty.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.dead_letters = Counter(
            "genesis_scoring_dead_letters",
            "Samples given up on after repeated failures (with Redis: moved to the dead-letter stream).",
            registry=registry,
        )
        self.errors = Counter(
            "genesis_scoring_errors",
            "Problems while scoring, by reason (" + ", ".join(ERROR_REASONS) + ").",
            ("reason",),
            registry=registry,
        )
        self.judge_cost = Counter(
            "genesis_judge_cost_usd",
            "Estimated spend of the LLM judge in USD, by agent.",
            ("agent",),
            registry=registry,
        )

    def observe(self, agent: str, variant: str, values: dict[str, float], passed: bool) -> None:
        """One scored sample: every dimension (and ``overall``) in ``values``, and its outcome."""
        for dimension, value in values.items():
            self.score.labels(agent, variant, dimension).observe(value)
        self.scored.labels(agent, variant, "pass" if passed else "fail").inc()

    def backlog(self, depth: int, lag_s: float) -> None:
        self.queue_depth.set(depth)
        self.lag.set(lag_s)
