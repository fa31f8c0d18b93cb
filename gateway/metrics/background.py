"""Failures of the gateway's background loops: ``genesis_background_errors_total`` by component.

Each long-running loop (the A/B analysis, the rollout controller and its gate, the flag monitor,
the assignment-count flush) catches any exception so that one bad round does not stop it; it logs
the traceback and counts it here, so a loop that fails every round shows on a dashboard and an
alert instead of only in the log. ``component`` takes only the values of ``BACKGROUND_COMPONENTS``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

BACKGROUND_COMPONENTS = ("ab_analysis", "rollout_controller", "rollout_gate", "flag_monitor", "assignment_counts")
"""The ``component`` label values; each series exists from the start, at 0."""


class BackgroundMetrics:
    """The background-loop error counter, registered on an injected registry."""

    def __init__(self, registry: CollectorRegistry):
        self.errors = Counter(
            "genesis_background_errors",
            "Unexpected failures of a background loop, by component (" + ", ".join(BACKGROUND_COMPONENTS) + "); "
            "each is logged with its traceback and the loop carries on.",
            ("component",),
            registry=registry,
        )
        for component in BACKGROUND_COMPONENTS:
            self.errors.labels(component)

    def failed(self, component: str) -> None:
        """Count one failure of ``component``'s loop."""
        self.errors.labels(component).inc()
