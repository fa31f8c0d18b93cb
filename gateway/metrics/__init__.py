"""Every Prometheus metric the gateway exports, registered on an injected registry.

This package is the one place that names metrics; dashboards and alert rules use these names.
Labels are bounded: ``agent`` and ``model`` only ever take values from the config (an unknown model
is refused with 404 before it is metered), ``variant`` is candidate/baseline/none, ``status_class``
is 2xx/4xx/5xx. User ids and prompt text never become labels.

With several worker processes (``serve --workers N``) the CLI points ``PROMETHEUS_MULTIPROC_DIR`` at
a fresh directory before any worker starts; each process then writes its samples to files there
and ``/metrics`` merges all of them (``exposition``), so any worker answers for all.
"""

from gateway.metrics.background import BackgroundMetrics
from gateway.metrics.experiments import ExperimentMetrics
from gateway.metrics.exposition import render_metrics
from gateway.metrics.flags import FlagMetrics
from gateway.metrics.quality import SamplerMetrics, ScoringMetrics
from gateway.metrics.traffic import TrafficMetrics

__all__ = [
    "BackgroundMetrics",
    "ExperimentMetrics",
    "FlagMetrics",
    "SamplerMetrics",
    "ScoringMetrics",
    "TrafficMetrics",
    "render_metrics",
]
