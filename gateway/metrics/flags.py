"""Flag metrics: each agent's flags as the local copy has them, staleness, Redis errors, SRM, rollout.

The gauges are set by the flag monitor (``gateway.flags.monitor``) about once a second, the SRM
gauges about every ten seconds; ``genesis_redis_errors_total`` is counted as errors happen. In
multiprocess mode every worker holds the same flags, so the gauges keep the most recent value
(staleness: the largest), rather than one series per process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.flags.model import AgentFlags
from gateway.flags.srm import SrmResult

REDIS_COMPONENTS = ("flags_sync", "flags_update", "audit", "counts", "rollout", "request_index")
"""The ``component`` label values; each series exists from the start, at 0."""


class FlagMetrics:
    """The flag store's metrics, registered on an injected registry."""

    def __init__(self, registry: CollectorRegistry):
        self.version = Gauge(
            "genesis_flag_version",
            "Version of the agent's flags in this replica's local copy; increases on every change.",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.candidate_share = Gauge(
            "genesis_candidate_share_percent",
            "Percent of the agent's units assigned to the candidate (fine-tuned) model.",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.enabled = Gauge(
            "genesis_agent_enabled",
            "1 when the agent's experiment runs, 0 when killed (every request goes to the baseline).",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.staleness = Gauge(
            "genesis_flags_staleness_seconds",
            "Seconds since the local copy of the flags last synced with Redis; 0 for the in-memory store.",
            registry=registry,
            multiprocess_mode="max",
        )
        self.redis_errors = Counter(
            "genesis_redis_errors",
            "Failed Redis operations by component (" + ", ".join(REDIS_COMPONENTS) + ").",
            ("component",),
            registry=registry,
        )
        for component in REDIS_COMPONENTS:
            self.redis_errors.labels(component)
        self.srm_p_value = Gauge(
            "genesis_srm_p_value",
            "Sample-ratio-mismatch chi-square p-value of the current phase; 1 while there is too little data.",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.srm_detected = Gauge(
            "genesis_srm_detected",
            "1 when the assignments of the current phase mismatch the configured share (p < 0.001).",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.rollout_step = Gauge(
            "genesis_rollout_step",
            "Step (1-based) of the staged-rollout schedule in force; 0 when no schedule runs.",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.rollout_target = Gauge(
            "genesis_rollout_target_share_percent",
            "Candidate share the running schedule ends at; 0 when no schedule runs.",
            ("agent",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )

    def observe_flags(self, flags: AgentFlags) -> None:
        """Set the per-agent gauges from one agent's flags."""
        agent = flags.agent
        self.version.labels(agent).set(flags.version)
        self.candidate_share.labels(agent).set(flags.candidate_share)
        self.enabled.labels(agent).set(1 if flags.enabled else 0)
        plan = flags.rollout
        self.rollout_step.labels(agent).set(plan.step + 1 if plan is not None else 0)
        self.rollout_target.labels(agent).set(plan.target if plan is not None else 0)

    def observe_srm(self, agent: str, result: SrmResult) -> None:
        """Set the SRM gauges of one agent."""
        self.srm_p_value.labels(agent).set(result.p_value)
        self.srm_detected.labels(agent).set(1 if result.detected else 0)

    def redis_error(self, component: str) -> None:
        """Count one failed Redis operation."""
        self.redis_errors.labels(component).inc()
